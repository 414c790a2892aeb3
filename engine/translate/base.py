"""The translator protocol; backends register in ``TRANSLATORS``."""

from __future__ import annotations

from typing import Protocol


class Translator(Protocol):
    name: str

    def can_translate(self, source: str, target: str) -> bool: ...

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


class NoTranslator:
    """The backend used when no translation pair is installed: it translates nothing."""

    name = "none"

    def can_translate(self, source: str, target: str) -> bool:
        return source == target

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if source != target:
            raise ValueError(f"no translation pair {source}->{target} is installed")
        return list(texts)


TRANSLATORS: dict[str, type] = {"none": NoTranslator}


def get_translator(name: str) -> Translator:
    try:
        return TRANSLATORS[name]()
    except KeyError:
        raise ValueError(f"unknown translator {name!r}; choose one of {sorted(TRANSLATORS)}") from None
