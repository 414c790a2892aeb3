"""BM25 over the same section chunks as the vector index (bm25s, sparse matrices)."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from engine.retrieve.analysis import analyse

LEXICAL_DIR = "lexical"
logging.getLogger("bm25s").setLevel(logging.WARNING)


def build_lexical(texts: list[str], languages: list[str], folder: Path) -> None:
    model = bm25s.BM25()
    model.index([analyse(t, lang) for t, lang in zip(texts, languages, strict=True)], show_progress=False)
    model.save(str(folder / LEXICAL_DIR), show_progress=False)


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        self._model = bm25s.BM25.load(str(folder / LEXICAL_DIR), mmap=True, show_progress=False)
        self._vocab = set(self._model.vocab_dict)

    def scores(self, query: str, language: str) -> np.ndarray:
        """BM25 score of every chunk (zeros when no query term is in the vocabulary)."""
        tokens = [t for t in analyse(query, language) if t in self._vocab]
        if not tokens:
            return np.zeros(self._model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)
