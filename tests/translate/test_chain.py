"""The chain: backends in the configured order, the cache in front, and how results say what was done."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from engine.errors import TranslationUnavailable
from engine.settings import Settings
from engine.stage import TicketState
from engine.translate import ORIGINAL, UNAVAILABLE, GistTranslator, TranslatorChain, build_translator
from engine.translate.cache import TranslationCache
from engine.types import LanguageResult, Route, Ticket


class Tagging:
    """A backend that tags each text with its name, counting calls: which backend ran is what is under test."""

    def __init__(self, name: str, pairs: Sequence[tuple[str, str]]) -> None:
        self.name = name
        self._pairs = list(pairs)
        self.calls = 0

    def pairs(self) -> list[tuple[str, str]]:
        return self._pairs

    def can_translate(self, source: str, target: str) -> bool:
        return (source, target) in self._pairs

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls += 1
        return [f"<{self.name}:{target}> {t}" for t in texts]


def chain(*backends: Tagging, folder: Path | None = None) -> TranslatorChain:
    return TranslatorChain(backends, TranslationCache(100, folder))


def test_the_first_backend_with_the_pair_translates_and_the_cache_answers_repeats() -> None:
    first, second = Tagging("first", [("hr", "en")]), Tagging("second", [("hr", "en"), ("de", "en")])
    translator = chain(first, second)
    assert translator.translate_marked(["a", "b"], "hr", "en").backend == "first"
    assert translator.translate_marked(["b", "c"], "hr", "en").texts == ("<first:en> b", "<first:en> c")
    assert first.calls == 2 and second.calls == 0  # the second call translated only "c"
    assert translator.translate_marked(["x"], "de", "en").backend == "second"
    assert translator.translate_marked(["x"], "en", "en").backend == ORIGINAL
    with pytest.raises(TranslationUnavailable, match="fr->en"):
        translator.translate(["x"], "fr", "en")


class Broken(Tagging):
    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        raise RuntimeError("model file truncated")


def test_a_failing_backend_hands_over_to_the_next(caplog: pytest.LogCaptureFixture) -> None:
    translator = chain(Broken("argos", [("hr", "en")]), Tagging("apertium", [("hr", "en")]))
    assert translator.translate_marked(["a"], "hr", "en").backend == "apertium"
    assert "argos failed on hr->en: model file truncated" in caplog.text
    with pytest.raises(TranslationUnavailable):
        chain(Broken("argos", [("hr", "en")])).translate(["a"], "hr", "en")


def _state(language: str, route_language: str) -> TicketState:
    state = TicketState(Ticket(text="Paket nije stigao."), "t", Settings().kbs()["default"])
    state.language = LanguageResult(language, 0.9)
    state.route = Route("general", route_language, "P3")
    return state


def test_a_gist_only_where_the_agent_reads_another_language() -> None:
    gists = GistTranslator(chain(Tagging("apertium", [("hr", "en")])))
    batch = [_state("hr", "en"), _state("en", "en"), _state("und", "en"), _state("pt", "en")]
    gists.run(batch)
    translated, same, unknown, missing = (s.gist for s in batch)
    assert translated is not None and translated.translation == "apertium"
    assert translated.original == "Paket nije stigao." and translated.text == "<apertium:en> Paket nije stigao."
    assert same is None and unknown is None
    assert missing is not None and missing.text is None and missing.translation == UNAVAILABLE


def test_backends_follow_the_setting_and_an_empty_list_turns_translation_off(tmp_path: Path) -> None:
    assert build_translator(Settings(data_dir=tmp_path, translators=[])).backends == ()
    assert not build_translator(Settings(data_dir=tmp_path, translators=[])).can_translate("en", "hr")
    chosen = build_translator(Settings(data_dir=tmp_path, translators=["argos"])).backends
    assert [b.name for b in chosen] in ([], ["argos"])  # [] only where CTranslate2 is not installed
    with pytest.raises(ValueError, match="twice"):
        Settings(data_dir=tmp_path, translators=["argos", "argos"])


def test_the_old_translator_setting(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert Settings(translator="none").translators == []  # type: ignore[call-arg]
    assert "translators = []" in caplog.text
    monkeypatch.setenv("SIFT_TRANSLATOR", "argos")
    with pytest.raises(ValueError, match="replaced by translators"):
        Settings()
