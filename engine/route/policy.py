"""The routing policy file, validated so a typo fails at start-up, not on a ticket."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import InvalidInput


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
    escalate_urgency: list[str] = Field(default_factory=lambda: ["urgent"])
    escalate_sentiment_below: float = Field(default=-0.3, ge=-1.0, le=1.0)
    withhold_answer: list[str] = Field(
        default_factory=lambda: ["out_of_scope", "no_question"],
        description="Handoff reason codes under which the draft quotes no article and the result's "
        "answer_confidence is 0: an article that merely shares words with such a ticket is no answer.",
    )


def load_policy(path: Path) -> RoutingPolicy:
    if not path.is_file():
        raise InvalidInput("routing_file", f"routing policy {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return RoutingPolicy(**raw)
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise InvalidInput("routing_file", f"{path} is not a valid routing policy: {exc}") from exc
