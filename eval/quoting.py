"""How often a draft quotes a KB article, on tickets the KB cannot answer and on ones it can.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.quoting [--limit N]

A quoted article is what an agent is most tempted to send unread, so quoting an unrelated one is the
costliest mistake a draft can make. Three sets go through the product's own pipeline (the service's
``Pipeline.run``, the default data directory's index and heads) and the share of drafts that cite an
article is counted:

- CLINC150's out-of-scope test queries (1,000, English): questions no helpdesk KB answers;
- every ticket of tickets-multilang (en, de): IT and SaaS support, outside the shipped Lumio KB's domain;
- the in-scope demo tickets in ``data/demo_tickets.jsonl``: the shipped KB's own questions, whose answered share
  must not fall (written for the demo, so this figure shows the trade-off, not a quality claim);
- Bitext's customer-support requests (4,514, English): orders, refunds, delivery, accounts and payments of
  an online shop, the public set nearest the KB's domain, where out-of-scope rejections cost answers.

Writes eval/results/quoting.json.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from engine.bootstrap import ensure_ready
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.route import load_policy
from engine.settings import REPO_ROOT, Settings
from engine.types import Ticket, TriageResult
from eval.datasets import bitext, clinc150, tickets_multilang

RESULTS = Path(__file__).parent / "results" / "quoting.json"
BATCH = 32


def demo_tickets() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines() if line]
    # The out-of-scope examples in the file teach the topic head what the KB does not cover: not questions of it.
    return [((r.get("subject", "") + "\n" + r["text"]).strip(), r["language"]) for r in rows if r["topic"] != "out_of_scope"]


def triage(pipeline: Pipeline, texts: list[str], label: str) -> list[TriageResult]:
    results: list[TriageResult] = []
    for start in track(range(0, len(texts), BATCH), description=label):
        chunk = texts[start : start + BATCH]
        results += pipeline.run([Ticket(text=t) for t in chunk], [f"{label}-{start + i}" for i in range(len(chunk))])
    return results


def summarise(results: list[TriageResult], languages: list[str]) -> dict[str, object]:
    quoted = [bool(r.draft and r.draft.citations) for r in results]
    by_language: dict[str, list[bool]] = {}
    for q, lang in zip(quoted, languages, strict=True):
        by_language.setdefault(lang, []).append(q)
    quoted_ids = Counter(r.draft.citations[0] for r, q in zip(results, quoted, strict=True) if q and r.draft)
    return {
        "tickets": len(results),
        "quoted_share": round(sum(quoted) / max(len(quoted), 1), 4),
        "handoff_share": round(sum(r.handoff.required for r in results) / max(len(results), 1), 4),
        "risk_share": round(sum(bool(r.risk) for r in results) / max(len(results), 1), 4),
        "out_of_scope_share": round(sum("out_of_scope" in r.handoff.reasons for r in results) / max(len(results), 1), 4),
        "quoted_share_by_language": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_language.items())},
        "most_quoted": quoted_ids.most_common(5),
    }


def main(limit: int = typer.Option(0, help="Use only the first N tickets of each set (0: all).")) -> None:
    settings = Settings()
    registry = ModelRegistry(settings)
    ensure_ready(registry)
    pipeline = Pipeline(settings, registry)
    pipeline.warm_up()
    sets = {
        "clinc150_oos_test": [(t, "en") for t, _ in clinc150("oos_test")],
        "tickets_multilang": tickets_multilang(),
        "demo_kb_questions": demo_tickets(),
        "bitext_requests": [(text, "en") for text, _ in bitext()],
    }
    report: dict[str, object] = {"encoder": registry.encoder.id, "answer_threshold": load_policy(settings.routing_file).thresholds.answer_confidence}
    table = Table("set", "tickets", "drafts quoting an article", "out of scope", "risk flagged", "handed off")
    started = time.perf_counter()
    for name, rows in sets.items():
        rows = rows[:limit] if limit else rows
        results = triage(pipeline, [t for t, _ in rows], name)
        summary = summarise(results, [lang for _, lang in rows])
        report[name] = summary
        table.add_row(
            name,
            str(summary["tickets"]),
            f"{summary['quoted_share']:.1%}",
            f"{summary['out_of_scope_share']:.1%}",
            f"{summary['risk_share']:.1%}",
            f"{summary['handoff_share']:.1%}",
        )
    report["seconds"] = round(time.perf_counter() - started, 1)
    Console().print(table)
    if not limit:
        RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
