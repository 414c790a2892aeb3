"""The numpy form of langdetect gives langdetect's own answers, and steps aside where it would not."""

import logging

import pytest
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from engine.models import langdetect_model
from engine.models.langdetect_model import DetectLangs, NumpyDetector, Profiles, _same, load

TEXTS = [
    "ok danke",
    "Hallo, meine Bestellung ist noch nicht angekommen. Können Sie nachsehen?",
    "where is my order??",
    "Moja narudžba nije stigla, molim pomoć",
    "Mi pedido no ha llegado todavía y ya pagué",
    "Je n'arrive pas à me connecter à mon compte depuis hier soir",
    "invoice 12345 wrong amount, bitte korrigieren, grazie",
    "Заказ не пришёл, верните деньги пожалуйста",
    "لم يصل طلبي بعد",
    "我的订单还没有到，请帮我查一下",
    "注文した商品がまだ届きません",
    "mi ordine non è arrivato, mamma mia che disastro",
    "hej, min beställning har inte kommit",
    # long enough that sampling runs past the first block of random words, and mixed enough to converge late
    " ".join(["The router restarts every night and die Verbindung bricht ab, la conexión se cae"] * 20),
]


@pytest.fixture(scope="module")
def factory() -> DetectorFactory:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


@pytest.fixture(scope="module")
def library(factory: DetectorFactory) -> DetectLangs:
    return DetectLangs(factory, Detector)


@pytest.fixture(scope="module")
def fast(factory: DetectorFactory) -> DetectLangs:
    return DetectLangs(Profiles.of(factory), NumpyDetector)


def test_the_numpy_form_is_the_one_loaded() -> None:
    assert load(seed=0).detector is NumpyDetector


@pytest.mark.parametrize("text", TEXTS)
def test_same_languages_and_probabilities_as_langdetect(library: DetectLangs, fast: DetectLangs, text: str) -> None:
    expected, got = library(text), fast(text)
    assert expected, "every test text has letters langdetect knows"
    assert _same(got, expected), (got, expected)


def test_same_answer_every_time(fast: DetectLangs) -> None:
    text = "Das Passwort geht nicht mehr, help"
    assert len({str(fast(text)) for _ in range(5)}) == 1


def test_text_without_features_raises_as_langdetect_does(fast: DetectLangs) -> None:
    with pytest.raises(LangDetectException):
        fast("12345 !!! ???")


def test_falls_back_to_langdetect_when_the_numpy_form_disagrees(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def wrong(self, start, *_):  # type: ignore[no-untyped-def]
        return start * 0 + 1.0 / len(start)  # every language equally likely

    monkeypatch.setattr(NumpyDetector, "_trial", wrong)
    with caplog.at_level(logging.WARNING, logger=langdetect_model.__name__):
        detect = load(seed=0)
    assert "keeping its own loop" in caplog.text
    assert detect.detector is Detector
    assert detect("Meine Bestellung ist noch nicht angekommen")[0].lang == "de"
