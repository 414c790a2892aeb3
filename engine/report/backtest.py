"""`sift backtest`: past tickets replayed through the whole pipeline, and what Sift would have done with them.

Every ticket runs through ``Pipeline.run`` under the chosen routing policy, exactly as the service would triage
it today, and is counted per queue, channel, language and month:

- *automated*: no handoff reason fired (``engine.route.simulate.automated``; reasons the caller ignores aside);
- *error rate*: among the automated tickets whose outcome the source records, the share where Sift's topic is not
  the recorded topic or its routed queue not the recorded queue: what customers would have received without a
  person looking;
- *deflection estimate*: the share whose top article reaches the policy's ``thresholds.answer_confidence``, the
  cut at which the draft quotes it and `/v1/articles/suggest` stops offering "contact support". The triage
  result's ``answer_confidence`` is already 0 where the policy withholds answers (risks, out of scope, no
  question), so a ticket that must reach a person never counts as deflected. It estimates how many customers a
  self-service suggestion would likely have answered, not how many would have read it;
- *risk handoffs*: tickets handed off for a risk (security incident, fraud, legal request, ...), by kind;
- *topics over time*: tickets per Sift topic per month (only when the source has dates).

The queue of a ticket is the recorded one where the source has it, else the one Sift routed it to; the language
the recorded one, else the detected one. Replayed tickets are not written to the ticket log, and the report
holds counts and labels only, no ticket text (labels pass the PII masking all the same).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.privacy.owner_only import write_private_text
from engine.privacy.redact import redact_json
from engine.report.history import NO_DATE, History, PastTicket, describe
from engine.route.policy import RoutingPolicy
from engine.route.simulate import automated
from engine.types import RISK_KINDS, Ticket, TriageResult

SCHEMA = 1
DIMENSIONS = ("queue", "channel", "language", "month")
NO_TOPIC = "(no topic)"


@dataclass(frozen=True)
class Outcome:
    """One replayed ticket: where it is grouped and what Sift would have done."""

    queue: str
    channel: str
    language: str
    month: str
    topic: str
    automated: bool
    judged: bool
    """Automated, and the source records an outcome to compare with."""
    wrong: bool
    deflected: bool
    risks: tuple[str, ...]
    reasons: tuple[str, ...]

    def key(self, dimension: str) -> str:
        return str(getattr(self, dimension))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Tally:
    """The counts of one group of tickets and the shares the report shows."""

    tickets: int = 0
    automated: int = 0
    judged: int = 0
    wrong: int = 0
    deflected: int = 0
    risk: int = 0
    risk_kinds: Counter[str] = field(default_factory=Counter)

    def add(self, o: Outcome) -> None:
        self.tickets += 1
        self.automated += o.automated
        self.judged += o.judged
        self.wrong += o.wrong
        self.deflected += o.deflected
        self.risk += bool(o.risks)
        self.risk_kinds.update(o.risks)

    def to_json(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets,
            "automated": self.automated,
            "judged": self.judged,
            "wrong": self.wrong,
            "deflected": self.deflected,
            "risk_handoffs": self.risk,
            "automation_share": _share(self.automated, self.tickets),
            "error_rate": _share(self.wrong, self.judged),
            "deflection_estimate": _share(self.deflected, self.tickets),
            "risk_share": _share(self.risk, self.tickets),
            "risk_kinds": dict(self.risk_kinds.most_common()),
        }


def outcome(past: PastTicket, result: TriageResult, answer_threshold: float, ignore: Iterable[str] = ()) -> Outcome:
    """What Sift did with one past ticket, scored against what the helpdesk recorded."""
    is_automated = automated(result.handoff, ignore)
    topic = result.topic.label
    checks = [topic == past.topic] if past.topic is not None else []
    if past.queue is not None:
        checks.append(result.route.queue == past.queue)
    judged = is_automated and bool(checks)
    confidence = result.answer_confidence
    return Outcome(
        queue=past.queue or result.route.queue,
        channel=past.channel,
        language=(past.language or result.language.code).lower(),
        month=past.month,
        topic=topic or NO_TOPIC,
        automated=is_automated,
        judged=judged,
        wrong=judged and not all(checks),
        deflected=confidence is not None and confidence >= answer_threshold,
        risks=tuple(r for r in result.handoff.reasons if r in RISK_KINDS),
        reasons=result.handoff.reasons,
    )


@dataclass
class Replayed:
    """Each past ticket's outcome, in order, and the head versions that answered (results are not kept: a long
    history would hold every article body in memory)."""

    outcomes: list[Outcome] = field(default_factory=list)
    versions: dict[str, Counter[str]] = field(default_factory=lambda: {"topic": Counter(), "urgency": Counter()})

    def add(self, results: Sequence[TriageResult], past: Sequence[PastTicket], threshold: float, ignore: Iterable[str]) -> None:
        for p, r in zip(past, results, strict=True):
            self.outcomes.append(outcome(p, r, threshold, ignore))
            for head, counts in self.versions.items():
                prediction = getattr(r, head)
                if prediction is not None and prediction.model_version:
                    counts[prediction.model_version] += 1

    def models(self) -> dict[str, str | None]:
        """The most common version of each head (should a reload land mid-run)."""
        return {head: c.most_common(1)[0][0] if c else None for head, c in self.versions.items()}


def replay(
    run: Callable[[list[Ticket], list[str]], list[TriageResult]],
    history: Sequence[PastTicket],
    policy: RoutingPolicy,
    ignore: Iterable[str] = (),
    batch_size: int = 64,
    advance: Callable[[int], None] = lambda n: None,
) -> Replayed:
    """Every past ticket through ``run`` (``Pipeline.run``) in batches, each scored as soon as it is triaged."""
    skipped = tuple(ignore)
    replayed = Replayed()
    for start in range(0, len(history), batch_size):
        chunk = history[start : start + batch_size]
        results = run([p.ticket for p in chunk], [f"backtest-{start + i}" for i in range(len(chunk))])
        replayed.add(results, chunk, policy.thresholds.answer_confidence, skipped)
        advance(len(chunk))
    return replayed


def _ordered(dimension: str, groups: dict[str, Tally]) -> list[str]:
    """Months in time order (undated last), other groups largest first."""
    if dimension == "month":
        return sorted(groups, key=lambda m: (m == NO_DATE, m))
    return sorted(groups, key=lambda k: (-groups[k].tickets, k))


def topics_by_month(outcomes: Sequence[Outcome]) -> dict[str, Any] | None:
    """Tickets per Sift topic per dated month (topics largest first); None when no ticket has a date."""
    months = sorted({o.month for o in outcomes if o.month != NO_DATE})
    if not months:
        return None
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        if o.month != NO_DATE:
            counts[o.topic][o.month] += 1
    order = sorted(counts, key=lambda t: (-sum(counts[t].values()), t))
    return {"months": months, "topics": {t: [counts[t][m] for m in months] for t in order}}


def figures(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Every figure of the report, as plain JSON: overall, per dimension, handoff reasons, topics over time."""
    overall = Tally()
    by: dict[str, dict[str, Tally]] = {d: defaultdict(Tally) for d in DIMENSIONS}
    reasons: Counter[str] = Counter()
    for o in outcomes:
        overall.add(o)
        for d in DIMENSIONS:
            by[d][o.key(d)].add(o)
        reasons.update(o.reasons)
    dated = any(o.month != NO_DATE for o in outcomes)
    return {
        "tickets": len(outcomes),
        "overall": overall.to_json(),
        "by": {
            d: [{"key": k, **by[d][k].to_json()} for k in _ordered(d, by[d])] if d != "month" or dated else []
            for d in DIMENSIONS
        },
        "handoff_reasons": dict(reasons.most_common()),
        "topics_by_month": topics_by_month(outcomes),
    }


def build_report(
    history: History,
    replayed: Replayed,
    policy: RoutingPolicy,
    policy_name: str,
    ignore: Sequence[str],
    keep_last_digits: int,
    encoder: str | None = None,
) -> dict[str, Any]:
    """The JSON report: source, policy, models and every figure (labels masked), with the plots it holds."""
    from engine.report.backtest_plots import plot_ids

    outcomes = replayed.outcomes
    if len(outcomes) != len(history.tickets):
        raise ValueError(f"{len(outcomes)} outcomes for {len(history.tickets)} past tickets")
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "report": "backtest",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": history.source,
        "source": describe(history),
        "policy": {
            "file": policy_name,
            "topic_confidence": policy.thresholds.topic_confidence,
            "answer_confidence": policy.thresholds.answer_confidence,
            "ignored_reasons": list(ignore),
        },
        "models": {**replayed.models(), "encoder": encoder},
        **figures(outcomes),
    }
    report = redact_json(report, keep_last_digits)
    report["plots"] = plot_ids(report)
    return report


def default_path(reports_dir: Path, now: datetime | None = None) -> Path:
    """``backtest-YYYYMMDD-HHMM.html`` in the reports folder the console lists."""
    return reports_dir / f"backtest-{(now or datetime.now(UTC)):%Y%m%d-%H%M}.html"


def render_html(report: dict[str, Any]) -> str:
    """One self-contained page: inline CSS, plots as PNG data URIs, no script, nothing fetched."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from engine.report.backtest_plots import plots

    env = Environment(
        loader=PackageLoader("engine.report", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("backtest.html").render(report=report, plots=plots(report), dimensions=DIMENSIONS)


def write(report: dict[str, Any], path: Path) -> None:
    """JSON for ``.json`` (the figures alone), HTML otherwise; owner-only, written whole or not at all."""
    if path.suffix.lower() == ".json":
        write_private_text(path, json.dumps(report, ensure_ascii=False, indent=2))
    else:
        write_private_text(path, render_html(report))
