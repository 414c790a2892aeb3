"""The one translator the rest of Sift uses: the configured backends in order, behind a cache.

It is a ``Translator`` like any backend, and ``translate_marked`` also says which backend produced a text,
which is what a result's ``translation`` field reports (the draft's, the gist's, an article's): a backend's
name, or ``original`` when nothing needed translating; ``unavailable`` when none installed can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from subprocess import SubprocessError

from engine.settings import Settings
from engine.translate.apertium import ApertiumTranslator
from engine.translate.argos import ArgosTranslator
from engine.translate.base import ORIGINAL, Backend, TranslationUnavailable
from engine.translate.bergamot import BergamotTranslator
from engine.translate.cache import TranslationCache
from engine.translate.text import translate_around_links

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Translation:
    texts: tuple[str, ...]
    backend: str
    """The backend that translated them, or ``original`` when source and target are the same language."""


class TranslatorChain:
    """Tries ``backends`` in order; the first that has the pair translates."""

    name = "auto"

    def __init__(self, backends: Sequence[Backend], cache: TranslationCache) -> None:
        self.backends = tuple(backends)
        self._cache = cache

    def backend_for(self, source: str, target: str) -> Backend | None:
        return next((b for b in self.backends if b.can_translate(source, target)), None)

    def can_translate(self, source: str, target: str) -> bool:
        return source == target or self.backend_for(source, target) is not None

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        return list(self.translate_marked(texts, source, target).texts)

    def translate_marked(self, texts: list[str], source: str, target: str, persist: bool = False) -> Translation:
        """``texts`` in ``target`` and which backend wrote them; ``persist`` keeps them on disk (articles only)."""
        if source == target:
            return Translation(tuple(texts), ORIGINAL)
        for backend in (b for b in self.backends if b.can_translate(source, target)):
            try:
                return self._translate(backend, texts, source, target, persist)
            except (OSError, RuntimeError, ValueError, SubprocessError) as exc:  # a broken model, a failed apertium run
                log.warning("translation backend %s failed on %s->%s: %s", backend.name, source, target, exc)
        raise TranslationUnavailable(f"no installed translation backend translates {source}->{target}")

    def _translate(self, backend: Backend, texts: list[str], source: str, target: str, persist: bool) -> Translation:
        out = [self._cache.get(backend.name, source, target, t) for t in texts]
        missing = [i for i, t in enumerate(out) if t is None]
        if missing:
            made = translate_around_links(
                [texts[i] for i in missing], lambda pieces: backend.translate(pieces, source, target)
            )
            for i, translated in zip(missing, made, strict=True):
                self._cache.put(backend.name, source, target, texts[i], translated, persist)
                out[i] = translated
        done = tuple(t for t in out if t is not None)
        return Translation(done, backend.name)


BACKENDS: dict[str, tuple[Callable[[], bool], Callable[[Settings], Backend]]] = {
    "argos": (ArgosTranslator.available, lambda s: ArgosTranslator(s.translate_dir / "argos", s.blas_threads)),
    "bergamot": (BergamotTranslator.available, lambda s: BergamotTranslator()),
    "apertium": (ApertiumTranslator.available, lambda s: ApertiumTranslator()),
}


def build_translator(settings: Settings) -> TranslatorChain:
    """The configured backends whose software is installed, in the configured order; one missing is logged."""
    backends = []
    for name in settings.translators:
        available, make = BACKENDS[name]
        if available():
            backends.append(make(settings))
        else:
            log.info("translation backend %s is configured but not installed; skipped", name)
    cache = TranslationCache(settings.translation_cache_entries, settings.translate_dir / "cache")
    return TranslatorChain(backends, cache)
