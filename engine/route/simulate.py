"""Replaying labelled past tickets under a routing policy: what it would have automated, and how often wrongly.

The models run once (``Pipeline.states``); a policy only re-decides the ticket states they left, so trying
a policy and its threshold variants costs router time, not encoder time. A ticket is *automated* when no
handoff reason fires (reasons the caller chooses to ignore aside: ``no_confident_article`` when the KB is not
the one the tickets were written for). An automated ticket is *wrong* when its predicted topic is not the
labelled one, or, when queues are labelled, its queue is not. Replayed tickets carry no earlier contacts,
so ``repeated_contact`` never fires here.

Every figure is kept per queue and language, per queue, per language and overall, and so is every operating
point: a cut that looks harmless overall can hand off most of one small queue, or automate the errors of one
language, and a team lead has to see that before changing the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.route.policy import RoutingPolicy
from engine.route.router import Router
from engine.stage import TicketState
from engine.types import Handoff

OPERATING_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TUNABLE_THRESHOLDS = ("topic_confidence", "answer_confidence")
"""The policy cuts whose operating points a replay reports: the two that decide most automation. The others are
model-side (``out_of_scope``, ``risk``: the states would have to be recomputed) or per topic (chosen on purpose)."""


@dataclass(frozen=True)
class Truth:
    """What an agent decided for a past ticket; ``queue`` and ``language`` only when the data says."""

    topic: str
    queue: str | None = None
    language: str | None = None


@dataclass
class Cell:
    """Counts of one group of tickets (a queue and language, or all)."""

    tickets: int = 0
    automated: int = 0
    wrong: int = 0

    def add(self, automated: bool, wrong: bool) -> None:
        self.tickets += 1
        self.automated += automated
        self.wrong += automated and wrong

    @property
    def automation_rate(self) -> float | None:
        return self.automated / self.tickets if self.tickets else None

    @property
    def error_rate(self) -> float | None:
        """Wrong among the automated: what customers would have received without a person looking."""
        return self.wrong / self.automated if self.automated else None

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "tickets": self.tickets,
            "automated": self.automated,
            "wrong": self.wrong,
            "automation_rate": _round(self.automation_rate),
            "error_rate": _round(self.error_rate),
        }


@dataclass
class Replay:
    """One policy's outcome: overall, per (queue, language), per queue, per language, and how often each handoff
    reason fired."""

    overall: Cell = field(default_factory=Cell)
    groups: dict[tuple[str, str], Cell] = field(default_factory=dict)
    queues: dict[str, Cell] = field(default_factory=dict)
    languages: dict[str, Cell] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, queue: str, language: str, automated: bool, wrong: bool) -> None:
        for cell in (
            self.overall,
            self.groups.setdefault((queue, language), Cell()),
            self.queues.setdefault(queue, Cell()),
            self.languages.setdefault(language, Cell()),
        ):
            cell.add(automated, wrong)

    def to_json(self) -> dict[str, object]:
        return {
            "overall": self.overall.to_json(),
            "groups": [{"queue": q, "language": la, **c.to_json()} for (q, la), c in sorted(self.groups.items())],
            "queues": [{"queue": q, **c.to_json()} for q, c in sorted(self.queues.items())],
            "languages": [{"language": la, **c.to_json()} for la, c in sorted(self.languages.items())],
            "handoff_reasons": dict(self.reasons.most_common()),
        }


@dataclass(frozen=True)
class OperatingPoint:
    """The policy with one cut moved to ``threshold`` (for ``topic_confidence``, ``thresholds.per_topic`` still
    overrides), and what it would have automated: overall and per group, as the replay counts them."""

    name: str
    threshold: float
    replay: Replay

    @property
    def coverage(self) -> float:
        return self.replay.overall.automation_rate or 0.0

    @property
    def error_rate(self) -> float | None:
        return self.replay.overall.error_rate

    @property
    def automated(self) -> int:
        return self.replay.overall.automated

    def to_json(self) -> dict[str, object]:
        counts = self.replay.to_json()
        return {
            "threshold": self.threshold,
            "coverage": _round(self.coverage),
            "error_rate": _round(self.error_rate),
            "automated": self.automated,
            **{key: counts[key] for key in ("groups", "queues", "languages")},
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def automated(handoff: Handoff, ignore: Iterable[str] = ()) -> bool:
    """No handoff reason fired but the ignored ones (``stage_failed:x`` is matched whole)."""
    skipped = set(ignore)
    return not any(reason not in skipped for reason in handoff.reasons)


def replay(
    states: Sequence[TicketState], truths: Sequence[Truth], policy: RoutingPolicy, ignore: Iterable[str] = ()
) -> Replay:
    """Re-decide every state under ``policy`` and count automation and errors per queue and language.

    The queue of a group is the labelled one, or else the queue the policy gives the labelled topic: errors
    are grouped where the ticket belonged, not where the mistake sent it.
    """
    if len(states) != len(truths):
        raise ValueError(f"{len(states)} ticket states for {len(truths)} labels")
    router = Router(policy)
    skipped = frozenset(ignore)
    result = Replay()
    for state, truth in zip(states, truths, strict=True):
        route, handoff = router.decide(state)
        handoff = Router.with_draft(handoff, state.draft)
        predicted = state.topic.label if state.topic else None
        wrong = predicted != truth.topic or (truth.queue is not None and route.queue != truth.queue)
        is_automated = automated(handoff, skipped)
        queue = truth.queue or policy.queues.get(truth.topic, policy.default_queue)
        language = truth.language or state.language.code
        result.add(queue, language, is_automated, wrong)
        result.reasons.update(handoff.reasons)
    return result


def with_threshold(policy: RoutingPolicy, name: str, threshold: float) -> RoutingPolicy:
    """The policy with one of its ``TUNABLE_THRESHOLDS`` moved (per-topic cuts kept: they were chosen on purpose)."""
    if name not in TUNABLE_THRESHOLDS:
        raise ValueError(f"no operating points for thresholds.{name}; try {', '.join(TUNABLE_THRESHOLDS)}")
    return policy.model_copy(update={"thresholds": policy.thresholds.model_copy(update={name: threshold})})


def with_topic_threshold(policy: RoutingPolicy, threshold: float) -> RoutingPolicy:
    """The policy with its global topic-confidence cut moved."""
    return with_threshold(policy, "topic_confidence", threshold)


def operating_points(
    states: Sequence[TicketState],
    truths: Sequence[Truth],
    policy: RoutingPolicy,
    thresholds: Sequence[float] = OPERATING_THRESHOLDS,
    ignore: Iterable[str] = (),
    name: str = "topic_confidence",
) -> list[OperatingPoint]:
    """Coverage (automated share) and error rate among the automated, overall and per group, with the cut
    ``name`` at each of ``thresholds``."""
    skipped = frozenset(ignore)
    return [
        OperatingPoint(name, threshold, replay(states, truths, with_threshold(policy, name, threshold), skipped))
        for threshold in thresholds
    ]
