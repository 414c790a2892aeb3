"""The routing policy file, validated so a typo fails at start-up, not on a ticket."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.errors import InvalidInput
from engine.types import RISK_KINDS, URGENCY_LEVELS


class RiskRoute(BaseModel):
    """Where a kind of risk goes (None: the topic's queue) and the urgency it needs at least (None: no raise)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str | None = None
    min_urgency: str | None = None

    @field_validator("min_urgency")
    @classmethod
    def _known_urgency(cls, value: str | None) -> str | None:
        if value is not None and value not in URGENCY_LEVELS:
            raise ValueError(f"min_urgency must be one of {', '.join(URGENCY_LEVELS)}; got {value!r}")
        return value


class Thresholds(BaseModel):
    """The confidence cuts that decide what a person must see; each is a calibrated probability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic_confidence: float = Field(
        default=0.55, ge=0.0, le=1.0, description="Topic confidence below it hands off (low_topic_confidence)."
    )
    out_of_scope: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Topic confidence below it reports no topic (out_of_scope); 0: only the head's own "
        "out-of-scope rule does.",
    )
    answer_confidence: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="The top article's answer confidence needed to quote it; below it the ticket is handed off "
        "(no_confident_article).",
    )
    risk: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="The risk head's probability at which a kind hands off; the risk lexicon fires regardless.",
    )
    per_topic: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict,
        description="Topic label -> its own topic_confidence: a costly mistake (billing) can ask for more than "
        "a cheap one (delivery status).",
    )

    def topic_threshold(self, topic: str | None) -> float:
        """The topic-confidence cut for this topic: its own if the policy gives one, else the global one."""
        return self.per_topic.get(topic, self.topic_confidence) if topic else self.topic_confidence


class RepeatedContact(BaseModel):
    """A customer writing again about the same problem: the first answer did not help, so a person takes over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within_days: float = Field(
        default=7.0, gt=0.0, le=365.0, description="How far back the ticket log is searched for the same customer."
    )
    same_topic: bool = Field(
        default=True, description="Only an earlier ticket with the same topic counts (off: any earlier ticket)."
    )


class RoutingPolicy(BaseModel):
    """Where tickets go and when a person must take over: one file a team lead can read, test and tune."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: Thresholds = Field(default_factory=Thresholds)

    queues: dict[str, str] = Field(default_factory=dict)
    default_queue: str = "general"
    urgency_queues: dict[str, str] = Field(default_factory=dict)
    priorities: dict[str, str] = Field(default_factory=lambda: {"low": "P4", "normal": "P3", "high": "P2", "urgent": "P1"})
    priority_tiers: list[str] = Field(default_factory=list)
    handoff_tiers: list[str] = Field(
        default_factory=list, description="Customer tiers whose tickets a person always answers (vip_tier)."
    )
    priority_waiting_hours: list[Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=list,
        description="Each of these waits (hours since the ticket's received_at) the ticket has passed raises its "
        "priority one step.",
    )
    repeated_contact: RepeatedContact | None = Field(
        default=None, description="Hand off a customer's repeated ticket (repeated_contact); None: off."
    )
    agent_languages: list[str] = Field(default_factory=lambda: ["en"])
    fallback_language: str = "en"
    language_equivalents: dict[str, str] = Field(default_factory=dict)
    always_handoff_topics: list[str] = Field(default_factory=list)
    handoff_pii: list[str] = Field(default_factory=list)
    handoff_machine_translated: bool = Field(
        default=True,
        description="Hand off a ticket whose draft was machine-translated into the customer's language, so a "
        "person checks the translation before it is sent.",
    )
    escalate_urgency: list[str] = Field(default_factory=lambda: ["urgent"])
    escalate_sentiment_below: float = Field(default=-0.3, ge=-1.0, le=1.0)
    withhold_answer: list[str] = Field(
        default_factory=lambda: ["out_of_scope", "no_question", *RISK_KINDS, "stage_failed:risk"],
        description="Handoff reason codes under which the draft quotes no article and the result's "
        "answer_confidence is 0: an article that merely shares words with such a ticket is no answer.",
    )
    risk: dict[str, RiskRoute] = Field(default_factory=dict)

    @field_validator("priority_tiers", "handoff_tiers")
    @classmethod
    def _lower_tiers(cls, value: list[str]) -> list[str]:
        """Tiers match case-insensitively: a CRM's "VIP" is the policy's "vip"."""
        return [tier.lower() for tier in value]

    @field_validator("priority_waiting_hours")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        return sorted(value)

    @field_validator("risk")
    @classmethod
    def _known_kinds(cls, value: dict[str, RiskRoute]) -> dict[str, RiskRoute]:
        unknown = sorted(set(value) - set(RISK_KINDS))
        if unknown:
            raise ValueError(f"unknown risk kinds {unknown}; valid: {', '.join(RISK_KINDS)}")
        return value


def load_policy(path: Path) -> RoutingPolicy:
    """The policy in ``path``; refused with every error and its line (what `sift policy check` reports)."""
    from engine.route.check import check_policy  # check reads the router's rule codes, which read this module

    if not path.is_file():
        raise InvalidInput("routing_file", f"routing policy {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("routing_file", f"routing policy {path} is not UTF-8 text") from exc
    policy, problems = check_policy(text)
    if policy is None:
        errors = "; ".join(str(p) for p in problems if p.severity == "error")
        raise InvalidInput("routing_file", f"{path} is not a valid routing policy: {errors}")
    return policy
