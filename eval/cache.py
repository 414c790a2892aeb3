"""Embedding cache for eval runs: re-running an experiment should not re-encode a data set."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.models.encoders import Encoder

CACHE = Path(__file__).parent / ".cache"


def _cached(texts: list[str], tag: str, compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``compute(texts)``, from eval/.cache when these texts were computed under ``tag`` before."""
    digest = hashlib.sha256(("\x1e".join(texts) + tag).encode("utf-8")).hexdigest()[:24]
    path = CACHE / f"{digest}.npy"
    if path.is_file():
        return np.load(path)
    vectors = compute(texts)
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def encode_cached(encoder: Encoder, texts: list[str], kind: str = "query") -> np.ndarray:
    compute = encoder.encode_queries if kind == "query" else encoder.encode_passages
    # An int8 graph fed several texts a call gives vectors that depend on the batch: never mix them with the
    # vectors of one text a call (encoder_batch_independent), which the service computes.
    alone = "/alone" if getattr(encoder, "row_independent", False) else ""
    return _cached(texts, encoder.id + alone + kind, compute)


class CachedEncoder:
    """An Encoder whose results persist in eval/.cache, so a pool shared by several runs is encoded once."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.id = encoder.id
        self.dim = encoder.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return encode_cached(self._encoder, texts, "query")

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return encode_cached(self._encoder, texts, "passage")


class CachedSecondView:
    """A second view (``retrieval_second_view``) whose rows persist in eval/.cache like CachedEncoder's."""

    def __init__(self, view: Any) -> None:
        self._view = view
        self.id = view.id
        self.dim = view.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return _cached(texts, self.id, self._view.encode)
