"""How close Sift's drafts come to the replies real agents sent, against quoting the top article's opening.

Run from the repo root (public data, not part of CI):  .venv/bin/python -m eval.draft_usefulness [--per-language N]

Tickets with the agent's real reply go through the product's own pipeline (``Pipeline.run``, the data
directory's index and heads):

- tickets-multilang v4 (``answer``): IT and SaaS support e-mails in English and German;
- Bitext customer support (``response``): an online shop's requests in English, its templated replies.

Each draft and each baseline is compared with the real reply by the service encoder's cosine (both read as
queries: e5's form for symmetric similarity). The baseline is what a plain KB search would send: the first
paragraph of the top-ranked section, whatever its confidence. Also counted: the share of drafts in the
customer's language and the share that quote an article. The shipped KB is the demo company's (smart-home
devices), not these helpdesks', so absolute similarities are low; the comparison with the baseline and the
language share are what this measures. Writes eval/results/draft_usefulness.json.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from engine.bootstrap import ensure_ready
from engine.draft.excerpt import plain
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.settings import Settings
from engine.types import Ticket, TriageResult
from eval.datasets import bitext_rows, tickets_multilang_labelled

RESULTS = Path(__file__).parent / "results" / "draft_usefulness.json"
BATCH = 32
SEED = 19
BITEXT_SLOT = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


@dataclass(frozen=True)
class Case:
    ticket: Ticket
    reply: str
    """The real agent's reply."""
    language: str
    """The customer's language as the data set labels it."""


def multilang_cases(per_language: int) -> list[Case]:
    rows = [r for r in tickets_multilang_labelled() if r["answer"]]
    out: list[Case] = []
    for language in sorted({r["language"] for r in rows}):
        mine = [r for r in rows if r["language"] == language]
        for r in random.Random(SEED).sample(mine, min(per_language, len(mine))):
            out.append(Case(Ticket(text=r["body"], subject=r["subject"] or None), r["answer"], language))
    return out


def bitext_cases(limit: int) -> list[Case]:
    """Distinct requests; the replies' template slots ("{{Order Number}}") read as their names."""
    seen: dict[str, str] = {}
    for r in bitext_rows():
        if r["instruction"].strip() and r["response"].strip():
            seen.setdefault(r["instruction"].strip(), BITEXT_SLOT.sub(r"\1", r["response"]).strip())
    picked = random.Random(SEED).sample(sorted(seen), min(limit, len(seen)))
    return [Case(Ticket(text=text), seen[text], "en") for text in picked]


def baseline(result: TriageResult) -> str:
    """The top section's first paragraph: the reply a plain KB search would offer."""
    if not result.articles:
        return ""
    return next((b.strip() for b in plain(result.articles[0].body).split("\n\n") if b.strip()), "")


def cosine_rows(registry: ModelRegistry, left: list[str], right: list[str]) -> np.ndarray:
    """Row-wise cosine of two text lists; an empty text scores 0 (nothing sent is nothing useful)."""
    vectors = registry.encoder.encode_queries([t or "-" for t in left + right])
    sims = np.sum(vectors[: len(left)] * vectors[len(left) :], axis=1)
    empty = np.array([not a or not b for a, b in zip(left, right, strict=True)])
    return np.where(empty, 0.0, sims)


def score(pipeline: Pipeline, cases: list[Case], name: str) -> dict[str, object]:
    results: list[TriageResult] = []
    for start in range(0, len(cases), BATCH):
        chunk = cases[start : start + BATCH]
        results += pipeline.run([c.ticket for c in chunk], [f"{name}-{start + i}" for i in range(len(chunk))])
    registry = pipeline.registry
    replies = [c.reply for c in cases]
    drafts = [r.draft.text if r.draft else "" for r in results]
    draft_sims = cosine_rows(registry, drafts, replies)
    base_sims = cosine_rows(registry, [baseline(r) for r in results], replies)
    drafts_language = [r.draft.language if r.draft else "" for r in results]
    quoted = [bool(r.draft and r.draft.citations) for r in results]
    report: dict[str, object] = {}
    for language in sorted({c.language for c in cases}):
        idx = [i for i, c in enumerate(cases) if c.language == language]
        d, b = draft_sims[idx], base_sims[idx]
        report[language] = {
            "tickets": len(idx),
            "draft_similarity": round(float(d.mean()), 4),
            "baseline_similarity": round(float(b.mean()), 4),
            "draft_better_share": round(float((d > b).mean()), 4),
            "in_customer_language_share": share([drafts_language[i] == language for i in idx]),
            "in_detected_language_share": share([drafts_language[i] == results[i].language.code for i in idx]),
            "quoted_share": share([quoted[i] for i in idx]),
            **quoted_figures(d, b, [quoted[i] for i in idx]),
        }
    return report


def share(flags: list[bool]) -> float:
    return round(float(np.mean(flags)), 4) if flags else 0.0


def quoted_figures(draft: np.ndarray, base: np.ndarray, quoted: list[bool]) -> dict[str, float | int]:
    """The same comparison on the drafts that quote an article: where the answer, not the frame, is compared."""
    mask = np.array(quoted, dtype=bool)
    if not mask.any():
        return {"quoted_tickets": 0}
    return {
        "quoted_tickets": int(mask.sum()),
        "quoted_draft_similarity": round(float(draft[mask].mean()), 4),
        "quoted_baseline_similarity": round(float(base[mask].mean()), 4),
    }


def main(
    per_language: int = typer.Option(300, help="Tickets per language and data set (a fixed random sample)."),
    write: bool = typer.Option(True, help="Write eval/results/draft_usefulness.json."),
) -> None:
    settings = Settings()
    registry = ModelRegistry(settings)
    ensure_ready(registry)
    pipeline = Pipeline(settings, registry)
    pipeline.warm_up()
    started = time.perf_counter()
    report: dict[str, object] = {
        "encoder": registry.encoder.id,
        "per_language": per_language,
        "similarity": "cosine of the service encoder's vectors (query form) of the draft and the agent's reply",
        "baseline": "the top-ranked section's first paragraph",
        "note": "in_customer_language_share compares with the data set's language label; tickets-multilang labels "
        "some English-written tickets 'de', so in_detected_language_share (the language Sift detected) is the "
        "draft's own check. The shipped KB is the demo company's, not these helpdesks': few drafts quote.",
        "tickets_multilang": score(pipeline, multilang_cases(per_language), "tickets_multilang"),
        "bitext": score(pipeline, bitext_cases(per_language), "bitext"),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    table = Table("set", "language", "tickets", "draft", "baseline", "draft better", "in label/detected language", "quoted")
    for name in ("tickets_multilang", "bitext"):
        for language, row in report[name].items():  # type: ignore[union-attr]
            table.add_row(
                name,
                language,
                str(row["tickets"]),
                f"{row['draft_similarity']:.3f}",
                f"{row['baseline_similarity']:.3f}",
                f"{row['draft_better_share']:.1%}",
                f"{row['in_customer_language_share']:.1%} / {row['in_detected_language_share']:.1%}",
                f"{row['quoted_share']:.1%}",
            )
    Console().print(table)
    if write:
        RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
