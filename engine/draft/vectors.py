"""Vectors of the sentences a draft may quote, from the service encoder, cached per text.

The KB is finite and the same sections answer ticket after ticket, so a sentence is encoded once per process;
the ticket's own vector (``TicketState.embedding``) is the one the encode stage made, in the same space.
"""

from __future__ import annotations

import threading

import numpy as np

from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text

MAX_CACHED = 50_000
"""Far above the sentences of a large KB; past it the cache starts afresh rather than grow without bound."""


class SentenceVectors:
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def passages(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text, encoded as a passage (what a question is matched against)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = dict(zip(missing, self._registry.encoder.encode_passages(missing), strict=True)) if missing else {}
        with self._lock:
            rows = [fresh[t] if t in fresh else self._cache[t] for t in texts]
            if len(self._cache) + len(fresh) > MAX_CACHED:
                self._cache.clear()
            self._cache.update(fresh)
        return np.stack(rows)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Parts of a ticket encoded as questions, as the encode stage encodes the ticket (not cached: they are
        the customer's words)."""
        return self._registry.encoder.encode_queries([encoder_text(t) for t in texts])
