"""eval/cache.py keeps vectors computed one text a call apart from batch-composed ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval import cache


class Counting:
    """An encoder that says how it runs and counts what it is asked to encode."""

    def __init__(self, row_independent: bool) -> None:
        self.id = "stub"
        self.dim = 2
        self.row_independent = row_independent
        self.calls = 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.full((len(texts), 2), 1.0 if self.row_independent else 0.5, dtype=np.float32)

    encode_passages = encode_queries


def test_vectors_of_one_text_a_call_are_not_read_from_a_batch_composed_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    batched, alone = Counting(False), Counting(True)
    assert cache.encode_cached(batched, ["hello"])[0, 0] == 0.5
    assert cache.encode_cached(alone, ["hello"])[0, 0] == 1.0 and alone.calls == 1
    cache.encode_cached(alone, ["hello"])
    assert alone.calls == 1  # the second read comes from its own cache entry
