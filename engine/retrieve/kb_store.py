"""A build's articles, sections and row layout on disk, read per hit instead of held in the Python heap.

Several service workers (``sift serve --workers N``) or replicas serve the same build. Python objects for every
article and section would be a private copy in each of them: at 100k sections that is about 300 MB of heap per
process, unshared. So a build keeps them in files that every process maps and the page cache shares:

- ``kb.sqlite``: articles and sections, opened read-only and immutable, read through SQLite's memory map;
  a query fetches the few dozen articles it nominates and the sections of its hits.
- ``rows.npy``, ``chunk_article.npy``, ``article_spans.npy``: the integer layout the retriever scores with
  (each faiss row's section and window offset, each section's article, each article's sections and windows),
  loaded with ``mmap_mode="r"``.

Files are written under temporary names and renamed, so no reader ever opens a half-written one; a build folder is
never rewritten once ``CURRENT`` names it, and a pruned build stays readable by a process that still has it open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

import numpy as np

from engine.kb.articles import Article, Chunk
from engine.retrieve.windows import Window

STORE_FILE = "kb.sqlite"
ROWS_FILE = "rows.npy"
CHUNK_ARTICLE_FILE = "chunk_article.npy"
SPANS_FILE = "article_spans.npy"
CACHE_ARTICLES = 2048
"""Articles kept as objects per process: a query nominates a few dozen, and the same ones recur."""
MMAP_BYTES = 1 << 30
"""SQLite reads the store through a memory map up to this size: its pages live in the shared page cache."""
_IN_STEP = 500  # bound parameters per ``IN (...)`` query
_ARTICLE_FIELDS = ("id", "title", "language", "product", "tags", "updated", "audience", "topic", "translation_of",
                   "path", "body")
_SCHEMA = f"""
CREATE TABLE articles (pos INTEGER PRIMARY KEY, family TEXT NOT NULL, {', '.join(_ARTICLE_FIELDS)});
CREATE UNIQUE INDEX articles_id ON articles (id);
CREATE INDEX articles_family ON articles (family);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, section TEXT NOT NULL,
                     anchor TEXT NOT NULL, text TEXT NOT NULL, position INTEGER NOT NULL);
"""


def _save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.save(fh, array)
    tmp.replace(path)


def write_store(folder: Path, articles: Sequence[Article], chunks: Sequence[Chunk], windows: Sequence[Window]) -> None:
    """Write the store and layout files of a build; ``chunks`` grouped by article in ``articles`` order (as
    ``build_index`` cuts them) and ``windows`` in section order, so each article's rows are two ranges."""
    position = {a.id: i for i, a in enumerate(articles)}
    chunk_article = np.fromiter((position[c.article_id] for c in chunks), dtype=np.int32, count=len(chunks))
    if len(chunk_article) and np.any(np.diff(chunk_article) < 0):
        raise ValueError("sections must be grouped by article, in article order")
    window_chunk = np.fromiter((w.chunk for w in windows), dtype=np.int64, count=len(windows))
    rows = np.empty((len(chunks) + len(windows), 2), dtype=np.int64)
    rows[: len(chunks), 0] = np.arange(len(chunks))
    rows[: len(chunks), 1] = 0
    rows[len(chunks) :, 0] = window_chunk
    rows[len(chunks) :, 1] = [w.start for w in windows]
    # Per article: [first section, end of sections, first window row, end of window rows), rows being faiss rows.
    spans = np.zeros((len(articles), 4), dtype=np.int64)
    ids = np.arange(len(articles))
    spans[:, 0] = np.searchsorted(chunk_article, ids, side="left")
    spans[:, 1] = np.searchsorted(chunk_article, ids, side="right")
    window_article = chunk_article[window_chunk] if len(windows) else np.zeros(0, dtype=np.int32)
    spans[:, 2] = len(chunks) + np.searchsorted(window_article, ids, side="left")
    spans[:, 3] = len(chunks) + np.searchsorted(window_article, ids, side="right")

    tmp = folder / f".{STORE_FILE}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(_SCHEMA)
        db.executemany(
            f"INSERT INTO articles VALUES (?, ?, {', '.join('?' for _ in _ARTICLE_FIELDS)})",
            ((i, a.family, *_article_row(a)) for i, a in enumerate(articles)),
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
            ((i, c.article_id, c.section, c.anchor, c.text, c.position) for i, c in enumerate(chunks)),
        )
        db.commit()
    finally:
        db.close()
    for name, array in ((ROWS_FILE, rows), (CHUNK_ARTICLE_FILE, chunk_article), (SPANS_FILE, spans)):
        _save_npy(folder / name, array)
    tmp.replace(folder / STORE_FILE)  # last: its presence says the build's store is complete


def has_store(folder: Path) -> bool:
    return (folder / STORE_FILE).is_file()


def convert_jsonl_build(folder: Path) -> None:
    """Give a build made before the store existed (``articles.jsonl``, ``chunks.jsonl``, ``windows.jsonl``) its
    store, once; workers converting at the same moment each rename a complete file of the same content."""
    articles = [Article(**{**a, "tags": tuple(a["tags"])}) for a in _jsonl(folder / "articles.jsonl")]
    chunks = [Chunk(**c) for c in _jsonl(folder / "chunks.jsonl")]
    windows = [Window(**w) for w in _jsonl(folder / "windows.jsonl")]
    write_store(folder, articles, chunks, windows)


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _article_row(a: Article) -> tuple[object, ...]:
    record = asdict(a)
    record["tags"] = json.dumps(list(a.tags), ensure_ascii=False)
    return tuple(record[f] for f in _ARTICLE_FIELDS)


def _article(row: Sequence[object]) -> Article:
    record = dict(zip(_ARTICLE_FIELDS, row, strict=True))
    record["tags"] = tuple(json.loads(str(record["tags"])))
    return Article(**record)  # type: ignore[arg-type]


class KBStore:
    """One build's articles and sections, read from ``kb.sqlite`` on demand; safe to share between threads.

    One connection, opened at load and used under a lock (each read takes microseconds): it holds the file open,
    so a build pruned from disk while this process still serves it stays readable.
    """

    def __init__(self, folder: Path) -> None:
        uri = f"file:{quote(str(folder / STORE_FILE))}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self._db.execute("PRAGMA cache_size = -512")  # KiB: the memory map, not a private cache, holds the pages
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, Article] = OrderedDict()
        self._position: dict[str, int] = {}  # ids of the cached articles only
        self.n_articles = self._one("SELECT count(*) FROM articles")[0]
        self.n_chunks = self._one("SELECT count(*) FROM chunks")[0]

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> tuple[object, ...]:
        with self._lock:
            return tuple(self._db.execute(sql, args).fetchone())

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _remember(self, pos: int, article: Article) -> None:
        self._cache[pos] = article
        self._position[article.id] = pos
        while len(self._cache) > CACHE_ARTICLES:
            _, old = self._cache.popitem(last=False)
            self._position.pop(old.id, None)

    def articles_at(self, positions: Iterable[int]) -> list[Article]:
        """The articles at these positions (build order), in the order asked; one query for those not cached."""
        wanted = [int(p) for p in positions]
        found: dict[int, Article] = {}
        with self._lock:
            for p in wanted:
                article = self._cache.get(p)
                if article is not None:
                    self._cache.move_to_end(p)
                    found[p] = article
        missing = sorted(set(wanted) - found.keys())
        fetched: list[tuple[int, Article]] = []
        for start in range(0, len(missing), _IN_STEP):
            part = missing[start : start + _IN_STEP]
            rows = self._all(
                f"SELECT pos, {', '.join(_ARTICLE_FIELDS)} FROM articles WHERE pos IN ({','.join('?' * len(part))})",
                part,
            )
            fetched += [(int(row[0]), _article(row[1:])) for row in rows]  # type: ignore[call-overload]
        found.update(fetched)
        with self._lock:
            for p, article in fetched:
                self._remember(p, article)
        absent = [p for p in wanted if p not in found]
        if absent:
            raise IndexError(f"no article at position {absent[0]}")
        return [found[p] for p in wanted]

    def position(self, article_id: str) -> int | None:
        with self._lock:
            pos = self._position.get(article_id)
        if pos is not None:
            return pos
        row = self._all("SELECT pos FROM articles WHERE id = ?", (article_id,))
        return int(row[0][0]) if row else None  # type: ignore[call-overload]

    def family(self, family: str) -> dict[str, str]:
        """Language -> article id of the family's versions (build order; a later one of a language wins)."""
        rows = self._all("SELECT language, id FROM articles WHERE family = ? ORDER BY pos", (family,))
        return {str(language): str(article_id) for language, article_id in rows}

    def chunk(self, row: int) -> Chunk:
        found = self._all("SELECT article_id, section, anchor, text, position FROM chunks WHERE row = ?", (int(row),))
        if not found:
            raise IndexError(f"no section at row {row}")
        return Chunk(*found[0])  # type: ignore[arg-type]

    def iter_articles(self) -> Iterator[Article]:
        """Every article in build order, fetched in pages (for offline reports, not for requests)."""
        for start in range(0, self.n_articles, _IN_STEP):
            rows = self._all(
                f"SELECT {', '.join(_ARTICLE_FIELDS)} FROM articles WHERE pos >= ? AND pos < ? ORDER BY pos",
                (start, start + _IN_STEP),
            )
            yield from (_article(row) for row in rows)

    def iter_chunks(self) -> Iterator[Chunk]:
        for start in range(0, self.n_chunks, _IN_STEP):
            rows = self._all(
                "SELECT article_id, section, anchor, text, position FROM chunks WHERE row >= ? AND row < ? ORDER BY row",
                (start, start + _IN_STEP),
            )
            yield from (Chunk(*row) for row in rows)  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class ArticleView(Mapping[str, Article]):
    """``KBIndex.articles``: article id -> article, read from the store (iteration pages through all of them)."""

    def __init__(self, store: KBStore) -> None:
        self._store = store

    def __getitem__(self, article_id: str) -> Article:
        pos = self._store.position(article_id)
        if pos is None:
            raise KeyError(article_id)
        return self._store.articles_at([pos])[0]

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._store.position(article_id) is not None

    def __iter__(self) -> Iterator[str]:
        return (a.id for a in self._store.iter_articles())

    def __len__(self) -> int:
        return int(self._store.n_articles)

    def values(self) -> Iterator[Article]:  # type: ignore[override]
        return self._store.iter_articles()


class ChunkView(Sequence[Chunk]):
    """``KBIndex.chunks``: the build's sections by row, read from the store."""

    def __init__(self, store: KBStore) -> None:
        self._store = store

    def __getitem__(self, row: int) -> Chunk:  # type: ignore[override]
        if isinstance(row, slice):
            raise TypeError("sections are read one row at a time or iterated")
        n = len(self)
        if not -n <= row < n:
            raise IndexError(row)
        return self._store.chunk(row % n)

    def __len__(self) -> int:
        return int(self._store.n_chunks)

    def __iter__(self) -> Iterator[Chunk]:
        return self._store.iter_chunks()


class FamilyView(Mapping[str, dict[str, str]]):
    """``KBIndex.family``: family id -> {language: article id}; an unknown family is missing, not empty."""

    def __init__(self, store: KBStore) -> None:
        self._store = store

    def __getitem__(self, family: str) -> dict[str, str]:
        found = self._store.family(family)
        if not found:
            raise KeyError(family)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(a.family for a in self._store.iter_articles()))

    def __len__(self) -> int:
        return sum(1 for _ in self)
