"""The translator protocol every backend follows, and the words a result uses to say how a text was translated.

The chain (``chain.py``) calls ``can_translate`` and ``translate``; ``pairs`` is what `sift translate list` and
the docs show an operator, so every backend answers it from what is installed, never from a catalogue. With
machine translation off the chain simply has no backends.
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
__all__ = ["KB", "ORIGINAL", "UNAVAILABLE", "Backend", "TranslationUnavailable", "Translator"]


class Translator(Protocol):
    name: str

    def can_translate(self, source: str, target: str) -> bool: ...

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


class Backend(Translator, Protocol):
    """A machine translation backend: a translator that can also say which pairs it has installed."""

    def pairs(self) -> list[tuple[str, str]]:
        """Every (source, target) it translates directly, ISO 639-1 codes where the language has one."""
        ...

