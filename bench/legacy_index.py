"""The KB index loaded the way Sift loaded it before issue #20: every article and section as a Python object.

Kept as the baseline of two comparisons: ``bench.index_memory`` measures what these objects cost each serving
process, and ``tests/retrieve/test_kb_store.py`` checks that the mapped index answers exactly as this one does.
Both read the same build; only where the articles, sections and row layout live differs (heap here, mapped files
in ``engine.retrieve.index.KBIndex``). The faiss vectors are mapped in both, as they were before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from engine.kb.articles import Article, Chunk
from engine.models.faiss_files import read_faiss
from engine.retrieve.index import CURRENT, HNSW_EF_SEARCH, INDEX_FILE
from engine.retrieve.kb_store import ROWS_FILE, KBStore
from engine.retrieve.lexical import LEXICAL_DIR, LexicalIndex
from engine.retrieve.retriever import Retriever


class LegacyKBIndex:
    """Same attributes as ``KBIndex``, held as dicts, lists and in-heap arrays (the pre-#20 ``KBIndex.__init__``)."""

    def __init__(
        self, folder: Path, encoder_id: str, lexical: bool = True, hnsw_ef_search: int = HNSW_EF_SEARCH
    ) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        self.folder = folder
        self.meta = {key: value for key, value in meta.items() if key != "article_hashes"}
        self.index = read_faiss(folder / INDEX_FILE)
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = hnsw_ef_search
        self.lexical = LexicalIndex(folder) if lexical and (folder / LEXICAL_DIR).is_dir() else None
        store = KBStore(folder)
        try:
            article_list = list(store.iter_articles())
            self.chunks: list[Chunk] = list(store.iter_chunks())
        finally:
            store.close()
        self.articles: dict[str, Article] = {a.id: a for a in article_list}
        position = {a.id: i for i, a in enumerate(article_list)}
        self._article_list = article_list
        self.chunk_article = np.asarray([position[c.article_id] for c in self.chunks], dtype=np.int32)
        self.chunks_of: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            self.chunks_of.setdefault(chunk.article_id, []).append(i)
        rows = np.array(np.load(folder / ROWS_FILE))  # read into the heap, as windows.jsonl was
        self.row_chunk = rows[:, 0].copy()
        self.row_start = rows[:, 1].copy()
        window_rows: dict[str, list[int]] = {}
        for row in range(len(self.chunks), len(rows)):
            window_rows.setdefault(self.chunks[int(self.row_chunk[row])].article_id, []).append(row)
        self.rows_of = {
            article: np.asarray(rows_ + window_rows.get(article, []), dtype=np.int64)
            for article, rows_ in self.chunks_of.items()
        }
        self.family: dict[str, dict[str, str]] = {}
        for article in self.articles.values():
            self.family.setdefault(article.family, {})[article.language] = article.id

    def articles_at(self, positions: Any) -> list[Article]:
        return [self._article_list[int(p)] for p in np.asarray(positions).tolist()]

    @classmethod
    def current(
        cls, index_root: Path, encoder_id: str, lexical: bool = True, hnsw_ef_search: int = HNSW_EF_SEARCH
    ) -> LegacyKBIndex:
        return cls(index_root / (index_root / CURRENT).read_text().strip(), encoder_id, lexical, hnsw_ef_search)

    def vectors(self, rows: list[int] | np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))


class LegacyRetriever(Retriever):
    """The service's retriever over a ``LegacyKBIndex``: the same search code, the old memory layout."""

    def reload(self) -> Any:
        index = LegacyKBIndex.current(
            self._root, self._registry.encoder.id, lexical=self._mode != "dense", hnsw_ef_search=self._ef_search
        )
        with self._lock:
            self._index = index  # type: ignore[assignment]
        return index
