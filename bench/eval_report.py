"""How long `sift eval` takes to turn triage results into its report, triage excluded.

The triage of a labelled set costs what `sift triage-file` costs (bench/throughput.py); what this measures is the
rest: the figures (engine/report/figures.py), the PII masking of the labels, the plots and the HTML. The results
are made up, seeded: 20 topics, 4 urgency levels, 6 languages, 40 articles and about 80% right, so every figure
and plot of the report is there, sized as a real set of that many tickets would make it.

    .venv/bin/python -m bench.eval_report                  # 10,000 tickets, best of 3 (wall and CPU time)
    .venv/bin/python -m bench.eval_report --tickets 1000 --repeats 1
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench.measure import RESULTS_DIR, write_result
from engine.report.evaluation import LabelledSet, build_report, write
from engine.report.figures import Gold
from engine.types import (
    ArticleHit,
    Handoff,
    LanguageResult,
    Prediction,
    Route,
    SentimentResult,
    TriageResult,
)

TOPICS = [f"topic_{i:02d}" for i in range(20)]
URGENCY = ["low", "normal", "high", "urgent"]
LANGUAGES = ["en", "de", "hr", "es", "fr", "it"]
SENTIMENTS = ["negative", "neutral", "positive"]
ARTICLES = [f"article-{i:02d}" for i in range(40)]
RIGHT = 0.8

app = typer.Typer(add_completion=False)


def _article(id_: str, language: str) -> ArticleHit:
    return ArticleHit(id=id_, title=id_, language=language, section="", anchor="", snippet="", body="", score=0.5,
                      similarity=0.5)


def _guess(rng: random.Random, truth: str, choices: list[str]) -> Prediction:
    right = rng.random() < RIGHT
    label = truth if right else rng.choice(choices)
    confidence = min(1.0, max(0.0, rng.gauss(0.85 if right else 0.55, 0.12)))
    return Prediction(label, confidence, model_version="bench")


def synthetic(n: int, seed: int = 0) -> tuple[LabelledSet, list[TriageResult]]:
    """``n`` made-up labelled tickets and triage results, every field of the report labelled."""
    rng = random.Random(seed)
    gold: list[Gold] = []
    results: list[TriageResult] = []
    for i in range(n):
        g = Gold(rng.choice(TOPICS), rng.choice(URGENCY), rng.choice(LANGUAGES), rng.choice(SENTIMENTS),
                 rng.choice(ARTICLES))
        language = g.language if rng.random() < 0.95 else rng.choice(LANGUAGES)
        topic = _guess(rng, str(g.topic), TOPICS)
        ranked = [str(g.article)] + rng.sample(ARTICLES, 4) if rng.random() < 0.6 else rng.sample(ARTICLES, 5)
        if rng.random() < 0.3:  # the gold article further down the list
            rng.shuffle(ranked)
        results.append(TriageResult(
            id=f"eval-{i}", kb="default", language=LanguageResult(str(language), 0.9),
            sentiment=SentimentResult(rng.choice([str(g.sentiment)] * 4 + SENTIMENTS), 0.0, 0.8),  # type: ignore[arg-type]
            urgency=_guess(rng, str(g.urgency), URGENCY), topic=topic, entities=(), pii=(),
            articles=tuple(_article(a, str(language)) for a in ranked), answer_confidence=0.5, draft=None,
            route=Route("general", str(language), "normal"),
            handoff=Handoff(required=topic.confidence < 0.7 or rng.random() < 0.1),
            timings_ms={"encode": 40.0, "classify": 5.0, "retrieve": 12.0},
        ))
        gold.append(g)
    return LabelledSet([""] * n, gold), results


def report_seconds(labelled: LabelledSet, results: list[TriageResult], out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds from results to the HTML file written (figures, masking, plots, rendering).

    The CPU time is this process's: on shared cores the wall time grows with the neighbours' load, it does not.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    n = len(results)
    report = build_report(labelled, results, [1.0] * n, [64] * n, "bench", keep_last_digits=4)
    write(report, out)
    return time.perf_counter() - wall, time.process_time() - cpu


@app.command()
def main(
    tickets: Annotated[int, typer.Option(min=10, help="Made-up tickets in the report.")] = 10_000,
    repeats: Annotated[int, typer.Option(min=1, help="Runs; the best is reported.")] = 3,
    results_dir: Annotated[Path, typer.Option(help="Where the JSON goes.")] = RESULTS_DIR,
) -> None:
    """Time the report of ``--tickets`` results, best of ``--repeats``; bench/results/eval_report-<time>.json."""
    started = datetime.now(UTC)
    labelled, results = synthetic(tickets)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        runs = [report_seconds(labelled, results, out) for _ in range(repeats)]
        size = out.stat().st_size
    record = {
        "started_at": started.isoformat(timespec="seconds"),
        "tickets": tickets,
        "best_wall_s": round(min(w for w, _ in runs), 3),
        "best_cpu_s": round(min(c for _, c in runs), 3),
        "runs": [{"wall_s": round(w, 3), "cpu_s": round(c, 3)} for w, c in runs],
        "html_bytes": size,
        "load_average": {"before": load_before, "after": os.getloadavg()[0], "cores": os.cpu_count()},
    }
    path = write_result(record, results_dir, "eval_report-", started)
    Console().print(
        f"report of {tickets} tickets: {record['best_wall_s']} s wall, {record['best_cpu_s']} s CPU "
        f"(best of {repeats}), HTML {size / 1e3:.0f} kB; load average {load_before:.1f} on {os.cpu_count()} cores "
        f"-> {path}"
    )


if __name__ == "__main__":
    app()
