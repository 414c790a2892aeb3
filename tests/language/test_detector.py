import pytest

from engine.language import LanguageDetector
from engine.models.registry import ModelRegistry


@pytest.fixture(scope="module")
def detector(registry: ModelRegistry) -> LanguageDetector:
    return LanguageDetector(registry, registry.settings.min_language_chars, registry.settings.languages)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Moja narudžba 12345 još nije stigla, a platio sam prije dva tjedna!", "hr"),
        ("Mi pedido no ha llegado todavía", "es"),
        ("Meine Bestellung ist noch nicht angekommen", "de"),
        ("My Lumio Hub keeps going offline every night", "en"),
        ("Je n'arrive pas à me connecter à mon compte depuis hier", "fr"),
    ],
)
def test_detects_ticket_languages(detector: LanguageDetector, text: str, code: str) -> None:
    assert detector.detect(text).code == code


def test_short_text_is_und(detector: LanguageDetector) -> None:
    result = detector.detect("ok thx")
    assert result.code == "und" and result.uncertain


def test_deterministic(detector: LanguageDetector) -> None:
    text = "Račun mi je naplaćen dvaput"
    assert len({detector.detect(text) for _ in range(5)}) == 1


def test_locale_prior_breaks_close_calls(detector: LanguageDetector) -> None:
    text = "Mi pedido no ha llegado todavía"
    assert detector.detect(text, "es-ES").confidence > detector.detect(text).confidence
