"""`sift eval`: triage a labelled set with the installed heads and report how they did, as HTML or JSON.

The labelled set is read by ``sift train``'s readers (CSV/TSV/JSONL columns, Zendesk and Freshdesk exports), so a
helpdesk measures the model on the same kind of file it trained it on. The pipeline runs in-process, without the
service: evaluation tickets never enter the ticket log, where `sift gaps` and `sift train --include-feedback`
would read them as real traffic. The report holds no ticket text; the labels in it (user-named classes, article
ids) pass through the PII masking all the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from engine.errors import InvalidInput
from engine.privacy.owner_only import write_private_text
from engine.privacy.redact import redact_json
from engine.report.figures import FIELDS, Gold, figures
from engine.report.plots import plots
from engine.training.importers import read_training_data
from engine.types import BCP47, SentimentLabel, Ticket, TriageResult

SENTIMENTS: tuple[str, ...] = get_args(SentimentLabel)
SCHEMA = 1
"""The JSON report's layout version; ``--compare`` refuses a report of another."""

HEADLINES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    # (name, path into the figures, higher is better)
    ("topic accuracy", ("topic", "accuracy"), True),
    ("topic macro F1", ("topic", "macro_f1"), True),
    ("topic ECE", ("topic", "ece"), False),
    ("risk-coverage area", ("topic", "risk_coverage", "area"), False),
    ("automated share", ("topic", "risk_coverage", "operating_point", "coverage"), True),
    ("topic error when automated", ("topic", "risk_coverage", "operating_point", "risk"), False),
    ("urgency accuracy", ("urgency", "accuracy"), True),
    ("urgency macro F1", ("urgency", "macro_f1"), True),
    ("urgency ECE", ("urgency", "ece"), False),
    ("language accuracy", ("language", "accuracy"), True),
    ("sentiment accuracy", ("sentiment", "accuracy"), True),
    ("retrieval recall@1", ("retrieval", "recall@1"), True),
    ("retrieval recall@5", ("retrieval", "recall@5"), True),
    ("retrieval MRR@10", ("retrieval", "mrr@10"), True),
    ("drafts sent unedited", ("draft_edits", "sent_unedited_share"), True),
    ("draft edit distance", ("draft_edits", "mean_edit_distance"), False),
    ("drafts discarded", ("draft_edits", "discard_share"), False),
    ("latency p50 (ms)", ("latency", "p50_ms"), False),
    ("latency p95 (ms)", ("latency", "p95_ms"), False),
)


@dataclass(frozen=True)
class LabelledSet:
    texts: list[str]
    gold: list[Gold]


def read_labelled_set(
    path: Path, fmt: str, columns: dict[str, str], text_column: str | None, subject_column: str | None
) -> LabelledSet:
    """The tickets and their gold labels; ``columns`` maps a field of ``Gold`` to the column (or field spec)."""
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise ValueError(f"no gold field {sorted(unknown)}")
    data = read_training_data(path, fmt, columns, text_column, subject_column)
    checks = {"sentiment": (_is_sentiment, "negative, neutral or positive"), "language": (_is_language, "a language tag")}
    for name, (valid, expected) in checks.items():
        bad = [v for v in data.columns.get(name, []) if v and not valid(v)]
        if bad:
            raise InvalidInput(columns[name], f"{len(bad)} values are not {expected}, e.g. {bad[0]!r}")
    gold = [Gold(**{name: data.columns[name][i] for name in columns}) for i in range(len(data.texts))]
    return LabelledSet(data.texts, gold)


def _is_sentiment(value: str) -> bool:
    return value.strip().lower() in SENTIMENTS


def _is_language(value: str) -> bool:
    return BCP47.fullmatch(value.strip().replace("_", "-")) is not None


def triage(
    run: Callable[[list[Ticket], list[str]], list[TriageResult]],
    texts: Sequence[str],
    batch_size: int,
    advance: Callable[[int], None] = lambda n: None,
) -> tuple[list[TriageResult], list[float], list[int]]:
    """Every text through ``run`` (the pipeline) in batches: the results, each ticket's ms and its batch's size."""
    results: list[TriageResult] = []
    per_ticket_ms: list[float] = []
    batches: list[int] = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        began = time.perf_counter()
        results += run([Ticket(text=t) for t in chunk], [f"eval-{start + i}" for i in range(len(chunk))])
        ms = (time.perf_counter() - began) * 1000 / len(chunk)
        per_ticket_ms += [ms] * len(chunk)
        batches += [len(chunk)] * len(chunk)
        advance(len(chunk))
    return results, per_ticket_ms, batches


def build_report(
    labelled: LabelledSet,
    results: Sequence[TriageResult],
    per_ticket_ms: Sequence[float],
    batches: Sequence[int],
    data_name: str,
    keep_last_digits: int,
    encoder: str | None = None,
    out_of_scope_label: str = "out_of_scope",
) -> dict[str, Any]:
    """The JSON report: when and on what it ran, which models answered, and every figure (labels masked)."""
    body = figures(labelled.gold, results, per_ticket_ms, batches, out_of_scope_label)
    body["models"]["encoder"] = encoder
    head = {"schema": SCHEMA, "created": datetime.now(UTC).isoformat(timespec="seconds"), "data": data_name}
    return redact_json({**head, **body}, keep_last_digits)


def draft_edit_figures(database: Path | str) -> dict[str, Any] | None:
    """What agents did with drafted replies in the console (the feedback store of the service's data dir):
    sent unedited, mean edit distance of sent drafts, discarded. None when no draft was decided there, or the
    service has no ticket log yet (one is not created for this)."""
    from engine.store import FeedbackStore

    if isinstance(database, Path) and not database.is_file():
        return None
    store = FeedbackStore(database)
    try:
        edits = store.draft_edits()
    finally:
        store.close()
    return edits.to_json() if edits.decided else None


def read_report(path: Path) -> dict[str, Any]:
    """A previous run's JSON report, for ``--compare``; refused naming the option when it is not one."""
    if not path.is_file():
        raise InvalidInput("--compare", f"{path} does not exist or is not a file")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("--compare", f"{path} is not a JSON report of `sift eval --out X.json` ({exc})") from exc
    if not isinstance(report, dict) or report.get("schema") != SCHEMA or "tickets" not in report:
        raise InvalidInput("--compare", f"{path} is not a JSON report of `sift eval --out X.json` (schema {SCHEMA})")
    return report


def _at(report: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) else None


def _change(this: float | None, other: float | None, higher_is_better: bool) -> dict[str, Any]:
    """The difference (this minus other) and whether it is an improvement, a regression or neither."""
    delta = None if this is None or other is None else round(this - other, 4)
    verdict = "same" if not delta else "better" if (delta > 0) == higher_is_better else "worse"
    return {"this": this, "other": other, "delta": delta, "verdict": verdict}


def headlines(report: dict[str, Any], other: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The summary rows present in either report, each with the other run's value and the change when compared."""
    rows = []
    for name, path, higher in HEADLINES:
        this, before = _at(report, path), _at(other, path) if other else None
        if this is not None or before is not None:
            rows.append({"name": name, **_change(this, before, higher)})
    return rows


def per_class_changes(report: dict[str, Any], other: dict[str, Any] | None, head: str) -> list[dict[str, Any]]:
    """Each class's F1 in this run beside the compared run's (a class only one run saw has no change)."""
    theirs = {c["label"]: c["f1"] for c in ((other or {}).get(head) or {}).get("per_class", [])}
    return [
        {**c, "change": _change(c["f1"], theirs.get(c["label"]), True)} for c in report.get(head, {}).get("per_class", [])
    ]


def render_html(report: dict[str, Any], other: dict[str, Any] | None = None) -> str:
    """One self-contained page: inline CSS, plots as PNG data URIs, no script, nothing fetched."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("engine.report", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("evaluation.html").render(
        report=report,
        other=other,
        headlines=headlines(report, other),
        per_class={h: per_class_changes(report, other, h) for h in ("topic", "urgency") if h in report},
        plots=plots(report, other),
    )


def write(report: dict[str, Any], path: Path, other: dict[str, Any] | None = None) -> None:
    """JSON for ``.json`` (the figures alone), HTML otherwise; owner-only, written whole or not at all."""
    if path.suffix.lower() == ".json":
        if other is not None:
            compared = {k: other.get(k) for k in ("data", "created", "models")}
            report = {**report, "compared_with": {**compared, "headlines": headlines(report, other)}}
        write_private_text(path, json.dumps(report, ensure_ascii=False, indent=2))
    else:
        write_private_text(path, render_html(report, other))
