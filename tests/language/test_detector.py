import pytest

from engine.language import LanguageDetector
from engine.models.registry import ModelRegistry


@pytest.fixture(scope="module")
def detector(registry: ModelRegistry) -> LanguageDetector:
    return LanguageDetector.from_settings(registry, registry.settings)


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


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Мой заказ до сих пор не пришёл, хотя я оплатил его две недели назад.", "ru"),
        ("لم يصل طلبي بعد، وقد دفعت ثمنه قبل أسبوعين.", "ar"),
        ("我的订单还没到", "zh"),
        ("注文した商品がまだ届きません", "ja"),
        ("Siparişim hâlâ gelmedi, iki hafta önce ödedim.", "tr"),
    ],
)
def test_names_languages_the_helpdesk_does_not_expect(
    registry: ModelRegistry, detector: LanguageDetector, text: str, code: str
) -> None:
    """A ticket in an unexpected language must be named, not forced into the nearest expected one."""
    assert code not in registry.settings.languages
    assert detector.detect(text).code == code


def test_expected_languages_win_close_short_calls(registry: ModelRegistry) -> None:
    """Without the prior py3langid reads this short Spanish line as Galician."""
    s = registry.settings
    text = "Mi pedido no ha llegado todavía"
    assert registry.langid.rank(text)[0][0] != "es"
    assert LanguageDetector(registry, s.min_language_chars, ["es", "en"], 50.0, 0.0).detect(text).code == "es"


def test_a_croatian_bosnian_close_call_does_not_ask_langdetect(
    registry: ModelRegistry, detector: LanguageDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """langdetect knows Croatian only: asked, it would pull the ticket towards Croatian at 10+ ms a ticket."""
    text = "Poštovani, paket nije stigao na moju adresu."
    first = dict(registry.langid.rank(text)[:2])
    assert set(first) == {"hr", "bs"} and max(first.values()) < registry.settings.language_second_opinion_below
    asked: list[str] = []
    monkeypatch.setattr(type(registry), "langdetect", property(lambda self: asked.append))
    result = detector.detect(text)
    assert asked == []
    assert result.code in {"hr", "bs"} and result.uncertain


def test_other_unsure_calls_still_ask_langdetect(
    registry: ModelRegistry, detector: LanguageDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(type(registry), "langdetect", property(lambda self: lambda text: asked.append(text) or []))
    detector.detect("Kamera ne snima video")  # py3langid: French, Italian or Croatian
    assert asked == ["Kamera ne snima video"]
