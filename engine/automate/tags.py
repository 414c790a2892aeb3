"""Suggested tags: what triage found, in the flat form helpdesks filter views and reports by.

Each tag is ``kind:value`` (except ``order`` and ``out-of-hours``, which are flags), lower-case, without spaces,
so a helpdesk can apply them as they are and an agent sees at a glance where each came from.
"""

from __future__ import annotations

import re
import unicodedata

from engine.types import Prediction, RiskSignal, Span


def slug(text: str) -> str:
    """'Lumio Thermostat' → 'lumio-thermostat' (accents folded, anything but letters and digits a hyphen)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def suggested_tags(
    *,
    topic: Prediction | None,
    urgency: str | None,
    language: str,
    risks: tuple[RiskSignal, ...],
    entities: tuple[Span, ...],
    channel: str | None,
    out_of_hours: bool,
) -> tuple[str, ...]:
    tags: list[str] = []
    if topic is not None and topic.label:
        tags.append(f"topic:{slug(topic.label)}")
    if urgency:
        tags.append(f"urgency:{urgency}")
    if language != "und":
        tags.append(f"language:{language}")
    tags += [f"risk:{r.kind}" for r in risks]
    if any(e.label == "ORDER_NUMBER" for e in entities):
        tags.append("order")
    tags += [f"product:{slug(e.text)}" for e in entities if e.label == "PRODUCT" and slug(e.text)]
    if channel:
        tags.append(f"channel:{channel}")
    if out_of_hours:
        tags.append("out-of-hours")
    return tuple(dict.fromkeys(tags))  # in order, each once
