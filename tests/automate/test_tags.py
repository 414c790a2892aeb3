"""Suggested tags from what triage found."""

from __future__ import annotations

from engine.automate.tags import slug, suggested_tags
from engine.types import Prediction, RiskSignal, Span


def test_tags_name_what_triage_found_once_each_in_order() -> None:
    tags = suggested_tags(
        topic=Prediction("delivery", 0.9),
        urgency="high",
        language="de",
        risks=(RiskSignal("fraud", 0.8),),
        entities=(
            Span("ORDER_NUMBER", "12345", 0, 5),
            Span("ORDER_NUMBER", "67890", 10, 15),
            Span("PRODUCT", "Lumio Thermostat", 20, 36),
            Span("PERSON", "Ana", 40, 43),
        ),
        channel="email",
        out_of_hours=True,
    )
    assert tags == (
        "topic:delivery",
        "urgency:high",
        "language:de",
        "risk:fraud",
        "order",
        "product:lumio-thermostat",
        "channel:email",
        "out-of-hours",
    )


def test_nothing_known_gives_no_tags() -> None:
    kw = {"urgency": None, "language": "und", "risks": (), "entities": (), "channel": None, "out_of_hours": False}
    assert suggested_tags(topic=Prediction(None, 0.0), **kw) == ()  # type: ignore[arg-type]


def test_slug_folds_accents_and_punctuation() -> None:
    assert slug("Lumio Plus – Jahresabo") == "lumio-plus-jahresabo"
    assert slug("Čistač Žarulja") == "cistac-zarulja"
