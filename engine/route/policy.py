"""The routing policy file, validated so a typo fails at start-up, not on a ticket."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class RoutingPolicy(BaseModel):
    """Where tickets go and when a person must take over: one file a team lead can read, test and tune."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: Thresholds = Field(default_factory=Thresholds)

    queues: dict[str, str] = Field(default_factory=dict)
    default_queue: str = "general"
    urgency_queues: dict[str, str] = Field(default_factory=dict)
    priorities: dict[str, str] = Field(default_factory=lambda: {"low": "P4", "normal": "P3", "high": "P2", "urgent": "P1"})
    priority_tiers: list[str] = Field(default_factory=list)
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

    @field_validator("risk")
    @classmethod
    def _known_kinds(cls, value: dict[str, RiskRoute]) -> dict[str, RiskRoute]:
        unknown = sorted(set(value) - set(RISK_KINDS))
        if unknown:
            raise ValueError(f"unknown risk kinds {unknown}; valid: {', '.join(RISK_KINDS)}")
        return value


def load_policy(path: Path) -> RoutingPolicy:
    if not path.is_file():
        raise InvalidInput("routing_file", f"routing policy {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return RoutingPolicy(**raw)
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise InvalidInput("routing_file", f"{path} is not a valid routing policy: {exc}") from exc
