"""The shipped sentiment head on the real encoder."""

import pytest

from engine.models.encoders import vector_space
from engine.models.registry import ModelRegistry
from engine.sentiment import SentimentAnalyser, trend_of


@pytest.fixture(scope="module")
def analyser(registry: ModelRegistry) -> SentimentAnalyser:
    return SentimentAnalyser(registry)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is the worst service ever, I am furious and want my money back!", "negative"),
        ("Das ist eine Frechheit, seit drei Wochen warte ich und niemand antwortet!", "negative"),
        ("Užasna usluga, nitko mi ne odgovara već tjedan dana!", "negative"),
        ("Thank you so much, the new bulb works perfectly and your team was wonderful!", "positive"),
        ("¡Muchas gracias, todo funciona genial! Estoy encantada.", "positive"),
        # A question about a problem is a request, not a complaint: no apology in the draft.
        ("How do I cancel my Lumio Plus subscription?", "neutral"),
        ("My card was declined at the shop.", "neutral"),
        ("Wie ändere ich meine Lieferadresse?", "neutral"),
        ("This is the third time I write! Your service is a joke, I want my money back NOW.", "negative"),
    ],
)
def test_clear_cases(analyser: SentimentAnalyser, registry: ModelRegistry, text: str, label: str) -> None:
    [(predicted, score, confidence)] = analyser.score(registry.encoder.encode_queries([text]))
    assert predicted == label
    assert -1 <= score <= 1 and 0 < confidence <= 1
    assert label == "neutral" or (score < 0) == (label == "negative")


def test_shipped_head_records_its_provenance(registry: ModelRegistry) -> None:
    meta = registry.sentiment_head.meta
    assert vector_space(meta.encoder_id) == vector_space(registry.encoder.id)
    assert meta.metrics["umsab-en_accuracy"] > 0.55
    assert meta.metrics["requests-banking77_negative_rate"] <= 0.10


def test_trend() -> None:
    assert trend_of([0.6, -0.5]) == "worsening"
    assert trend_of([-0.6, 0.4]) == "improving"
    assert trend_of([0.1, 0.2]) == "stable"
    assert trend_of([0.1]) is None
