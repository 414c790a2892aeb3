"""Whether the article Sift is confident in is the right one, on real shop requests against the shipped KB.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.bitext_answers [--limit N]

``eval.quoting`` counts how often a draft quotes; this counts whether what it quotes answers the request. Bitext's
customer-support requests (orders, delivery, refunds, invoices, accounts) go through the product's own pipeline
(``Pipeline.run``, the default data directory's index and heads), and each intent is scored against the demo KB's
articles that answer it (``eval/data/bitext_demo_kb.json``: a judgement written by reading the articles, listed
there intent by intent; intents with no article count every confident article as wrong).

Three readings of the same results:

- the top article's answer confidence reaching the policy's threshold: what self-service shows as an answer
  and the router reads, whatever the topic heads say;
- the draft quoting an article: what an agent is handed (none where the heads call the request out of scope);
- the help centre's list for the same words (``TriageService.suggest``, then ``engine.web.widget.relevant``):
  what a customer searching sees.

Writes eval/results/bitext_answers.json.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table
from sklearn.metrics import roc_auc_score

from engine.bootstrap import ensure_ready
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.route import load_policy
from engine.service import TriageService
from engine.settings import Settings
from engine.types import ArticleHit, TriageResult
from engine.web.widget import SUGGESTIONS, relevant
from eval.datasets import bitext
from eval.quoting import triage

MAPPING = Path(__file__).parent / "data" / "bitext_demo_kb.json"
RESULTS = Path(__file__).parent / "results" / "bitext_answers.json"


def score(outcomes: list[tuple[str | None, list[str]]]) -> dict[str, Any]:
    """``outcomes``: (family the result stood behind or None, the families that answer its request)."""
    answerable = [(f, ok) for f, ok in outcomes if ok]
    unanswerable = [f for f, ok in outcomes if not ok]
    confident = [(f, ok) for f, ok in outcomes if f is not None]
    right = sum(f in ok for f, ok in confident)
    return {
        "requests": len(outcomes),
        "confident": len(confident),
        "right_among_confident": round(right / len(confident), 4) if confident else None,
        "answerable_answered_right": round(sum(f in ok for f, ok in answerable if f) / len(answerable), 4)
        if answerable else None,
        "answerable_answered_wrong": round(sum(f is not None and f not in ok for f, ok in answerable) / len(answerable), 4)
        if answerable else None,
        "unanswerable_answered": round(sum(f is not None for f in unanswerable) / len(unanswerable), 4)
        if unanswerable else None,
    }


def ranking_quality(ranked: list[tuple[float, bool, bool]]) -> dict[str, Any]:
    """``ranked``: (top article's confidence, whether it answers the request, whether any article does).

    How often the first article is right where one exists, and how well its confidence orders right answers before
    the rest at every threshold at once: AUROC, and the share of requests answered right at the widest cut where 90%
    of the answers are right."""
    confidence = np.array([c for c, _, _ in ranked])
    right = np.array([r for _, r, _ in ranked])
    answerable = np.array([a for _, _, a in ranked])
    order = np.argsort(-confidence, kind="stable")
    precision = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    at_90 = np.flatnonzero(precision >= 0.9)
    return {
        "right_at_rank_1_of_answerable": round(float(right[answerable].mean()), 4),
        "auroc": round(float(roc_auc_score(right, confidence)), 4),
        "answered_right_at_90_precision": round(float(right[order][: at_90[-1] + 1].sum() / len(right)), 4)
        if len(at_90) else 0.0,
    }


def listed_quality(lists: list[tuple[list[tuple[str, float]], list[str]]], threshold: float) -> dict[str, Any]:
    """``lists``: (the help centre's listed articles as (family, confidence), the families that answer the request).

    What a customer searching the help centre sees: whether an article that answers is listed, and first; how many
    are listed; how often a request no article answers is shown one at the answer threshold or above."""
    answerable = [(shown, ok) for shown, ok in lists if ok]
    unanswerable = [shown for shown, ok in lists if not ok]
    return {
        "right_listed": round(sum(any(f in ok for f, _ in shown) for shown, ok in answerable) / len(answerable), 4)
        if answerable else None,
        "right_first": round(sum(bool(shown) and shown[0][0] in ok for shown, ok in answerable) / len(answerable), 4)
        if answerable else None,
        "mean_listed": round(sum(len(shown) for shown, _ in lists) / len(lists), 2) if lists else None,
        "unanswerable_shown_confident": round(
            sum(any(c >= threshold for _, c in shown) for shown in unanswerable) / len(unanswerable), 4
        ) if unanswerable else None,
    }


def family(hit: ArticleHit) -> str:
    """The article a hit is a version of: the table names originals, the KB answers in the customer's language."""
    return hit.translation_of or hit.id


def readings(result: TriageResult, threshold: float) -> tuple[str | None, str | None]:
    """(family of a confident top article, family of the draft's first citation)."""
    families = {hit.id: family(hit) for hit in result.articles}
    top = result.articles[0] if result.articles else None
    confident = families[top.id] if top is not None and top.answer_confidence >= threshold else None
    cited = result.draft.citations[0].split("#", 1)[0] if result.draft and result.draft.citations else None
    return confident, None if cited is None else families.get(cited, cited)


def main(limit: int = typer.Option(0, help="Use only the first N requests of each intent (0: all).")) -> None:
    mapping: dict[str, list[str]] = json.loads(MAPPING.read_text(encoding="utf-8"))["answered_by"]
    per_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in bitext():
        if intent in mapping and (not limit or len(per_intent[intent]) < limit):
            per_intent[intent].append(text)
    settings = Settings()
    registry = ModelRegistry(settings)
    ensure_ready(registry)
    pipeline = Pipeline(settings, registry)
    pipeline.warm_up()
    threshold = load_policy(settings.routing_file).thresholds.answer_confidence
    started = time.perf_counter()
    rows = [(text, intent) for intent, texts in sorted(per_intent.items()) for text in texts]
    results = triage(pipeline, [t for t, _ in rows], "bitext")
    top: list[tuple[str | None, list[str]]] = []
    quoted: list[tuple[str | None, list[str]]] = []
    by_intent: dict[str, list[tuple[str | None, list[str]]]] = defaultdict(list)
    ranked: list[tuple[float, bool, bool]] = []
    listed: list[tuple[list[tuple[str, float]], list[str]]] = []
    wrong: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_, intent), result in zip(rows, results, strict=True):
        confident, cited = readings(result, threshold)
        if result.articles:
            first = result.articles[0]
            ranked.append((first.answer_confidence, family(first) in mapping[intent], bool(mapping[intent])))
        top.append((confident, mapping[intent]))
        quoted.append((cited, mapping[intent]))
        by_intent[intent].append((confident, mapping[intent]))
        if confident is not None and confident not in mapping[intent]:
            wrong[intent][confident] += 1
    service = TriageService.create(settings, registry=registry)
    try:
        for text, intent in track(rows, description="help centre"):
            shown = relevant(service.suggest(text, None, SUGGESTIONS, []).articles)
            listed.append(([(family(a), a.answer_confidence) for a in shown], mapping[intent]))
    finally:
        service.close()
    report = {
        "encoder": registry.encoder.id,
        "answer_threshold": threshold,
        "confident_top_article": score(top),
        "draft_quotes": score(quoted),
        "top_article": ranking_quality(ranked),
        "help_centre_list": listed_quality(listed, threshold),
        "by_intent": {intent: score(outcomes) for intent, outcomes in sorted(by_intent.items())},
        "wrong_articles": {i: dict(sorted(w.items(), key=lambda kv: -kv[1])) for i, w in sorted(wrong.items())},
        "seconds": round(time.perf_counter() - started, 1),
    }
    table = Table("intent", "requests", "confident", "right among confident", "answerable answered right")
    for intent, s in report["by_intent"].items():
        table.add_row(intent, str(s["requests"]), str(s["confident"]), _pct(s["right_among_confident"]),
                      _pct(s["answerable_answered_right"]))
    for name in ("confident_top_article", "draft_quotes"):
        s = report[name]
        table.add_row(f"[b]{name}[/b]", str(s["requests"]), str(s["confident"]), _pct(s["right_among_confident"]),
                      _pct(s["answerable_answered_right"]))
    Console().print(table)
    if not limit:
        RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


if __name__ == "__main__":
    typer.run(main)
