"""The translator protocol every backend follows, and the words a result uses to say how a text was translated.

The draft composer calls ``can_translate`` and ``translate`` only; ``pairs`` is what `sift translate list` and
the docs show an operator, so every backend answers it from what is installed, never from a catalogue.
"""

from __future__ import annotations

from typing import Protocol

from engine.errors import TranslationUnavailable

ORIGINAL = "original"
"""No translation was needed: the text is in the language asked for."""
KB = "kb"
"""The knowledge base's own translation of the article (written by a person): it always wins."""
UNAVAILABLE = "unavailable"
"""A translation was needed and no installed backend has the pair."""
__all__ = ["KB", "ORIGINAL", "UNAVAILABLE", "Backend", "NoTranslator", "TranslationUnavailable", "Translator"]


class Translator(Protocol):
    name: str

    def can_translate(self, source: str, target: str) -> bool: ...

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


class Backend(Translator, Protocol):
    """A machine translation backend: a translator that can also say which pairs it has installed."""

    def pairs(self) -> list[tuple[str, str]]:
        """Every (source, target) it translates directly, ISO 639-1 codes where the language has one."""
        ...


class NoTranslator:
    """Translates nothing: what a draft composer is given where machine translation is off."""

    name = "none"

    def can_translate(self, source: str, target: str) -> bool:
        return source == target

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if source != target:
            raise TranslationUnavailable(f"no translation pair {source}->{target} is installed")
        return list(texts)
