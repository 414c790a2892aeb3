"""The on-disk KB index: a faiss inner-product index over section chunks and their sentence windows.

Each build goes to its own folder and a ``CURRENT`` file is swapped atomically
afterwards, so a running service never reads a half-written index and can pick
up the new one on reload. Rows below ``meta["chunks"]`` are sections, in the
store's section order; the rows after them are the sections' sentence windows
(``windows.py``), in section order.

A loaded build holds no Python object per article or section: the vectors, the
BM25 matrices, the row layout and the store (``kb_store.py``) are all mapped
from the build's files, so processes serving one build share them through the
page cache and a process's heap does not grow with the KB.

Builds are incremental. Every chunk's passage text (what the encoder sees) is
hashed; a chunk whose hash the current build already holds takes its vector
from that build instead of from the encoder, so editing one article re-encodes
only its changed sections and their windows. Vectors are reused only from a build made by the same
encoder. Both index types keep their vectors uncompressed, so reading them back
from the previous build's faiss file is lossless and no second copy is stored.

With a second view (``retrieval_second_view``), every row also has that encoder's vector, in a flat index of
its own (``second_view.faiss``, the same rows): the retriever adds its cosine to e5's, and its vectors are
reused by passage hash like e5's. A build without them is completed by the next build, which encodes only
the second view.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from engine.errors import ModelError, NotReady
from engine.kb.articles import Article, Chunk, chunk_article
from engine.models.encoders import Encoder, vector_space
from engine.models.faiss_files import read_faiss
from engine.retrieve.kb_store import (
    CHUNK_ARTICLE_FILE,
    ROWS_FILE,
    SPANS_FILE,
    ArticleView,
    ChunkView,
    FamilyView,
    KBStore,
    convert_jsonl_build,
    has_store,
    write_store,
)
from engine.retrieve.lexical import LEXICAL_DIR, LexicalIndex, build_lexical
from engine.retrieve.windows import section_windows, window_text

CURRENT = "CURRENT"
KEEP_BUILDS = 3
INDEX_FILE = "index.faiss"
SECOND_INDEX_FILE = "second_view.faiss"
HASHES_FILE = "passage_hashes.json"
INDEX_TYPES = ("auto", "flat", "hnsw")
ENCODE_STEP = 32
# HNSW graph: 32 links per node and a wide search beam keep recall near exact
# for the retriever's 50-candidate searches; build time grows with ef_construction.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 512
"""Candidates HNSW keeps while searching, set at load (``hnsw_ef_search``). Helpdesk queries are "query:"-encoded
questions, unlike the "passage:" vectors the graph links, and need a wide search: on 63k real passages, recall@10
against exact search was 0.963 at 128, 0.983 at 256, 0.990 at 512 (1 ms a query on one core), 0.995 at 1024."""

Progress = Callable[[int, int, str], None]
"""Called with (passages encoded so far, passages to encode, which pass: "sections" by e5 or "second view")."""


class SecondView(Protocol):
    """A second encoder of the index's rows (engine/models/head_views.py: UseM3Encoder): one prefix-free unit
    row per text."""

    id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


PASSAGE_FORMAT = 2
"""What ``passage_text`` writes, recorded in each build's meta: a build of another format is re-encoded at start.
1: title, heading, text; 2: the article's tags after its title."""


def passage_text(article: Article, chunk: Chunk, text: str | None = None) -> str:
    """What the encoder and BM25 see: the article's question (title), its tags, the section heading, its text.

    ``text`` replaces the section's text with one of its windows: a lone sentence such as "Tap Save."
    means something only beside the title and heading it sits under. Tags are the words a KB writer expects
    customers to search with ("order status" on the where-is-my-order article); without them "what is my order
    status" found the change-address section, which says "while your order has the status Received"
    (eval/bitext_answers.py: the confident top article was right for 85.5% of Bitext's shop requests, 92.7% with).
    """
    body = chunk.text if text is None else text
    keywords = ", ".join(article.tags)
    head = [part for part in (article.title, keywords, chunk.section if chunk.section != article.title else "") if part]
    return "\n".join([". ".join(head), body]) if head else body


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def article_hash(article: Article) -> str:
    """Everything readers and the encoder see of an article; its file path is not content, so a move is no change."""
    record = {key: value for key, value in asdict(article).items() if key != "path"}
    return _digest(json.dumps(record, sort_keys=True, ensure_ascii=False))


def choose_index_type(n_chunks: int, setting: str = "auto", exact_max_chunks: int = 100_000) -> str:
    """``flat`` (exact) while a full scan is cheap, ``hnsw`` (approximate, sub-linear) beyond ``exact_max_chunks``.

    Counted in sections, not vectors: at 100k real sections (211k vectors with their sentence windows) a flat
    scan still answers in 38 ms p50 / 57 ms p95 on 2 cores, while HNSW at efSearch 512 shares only 94% of the
    exact top articles (bench/index_scale.py, 2026-12-01), so exactness is worth the scan up to there.
    """
    if setting not in INDEX_TYPES:
        raise ValueError(f"index type must be one of {INDEX_TYPES}; got {setting!r}")
    if setting != "auto":
        return setting
    return "flat" if n_chunks <= exact_max_chunks else "hnsw"


def _empty_index(kind: str, dim: int) -> faiss.Index:
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def set_search_threads(threads: int) -> None:
    """OpenMP keeps the thread count per calling thread, so this holds for the thread that searches."""
    faiss.omp_set_num_threads(threads)


@dataclass(frozen=True)
class IndexReport:
    """What one build did, so ``sift index`` can say what changed since the build before."""

    folder: Path
    index_type: str
    articles: int
    chunks: int
    windows: int
    encoded: int
    reused: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    deleted: tuple[str, ...]
    unchanged: int
    full_reason: str | None
    """Why no vector was reused; ``None`` for an incremental build."""
    second_view: str | None = None
    """The second view's encoder id when the build holds its vectors."""
    second_encoded: int = 0
    """Passages the second view encoded (the rest reused from the previous build)."""


@dataclass(frozen=True)
class _Previous:
    """What the current build offers the next one: article hashes to diff against, vectors to reuse."""

    article_hashes: dict[str, str]
    rows: dict[str, int]
    index: faiss.Index | None
    unusable: str | None
    second_rows: dict[str, int]
    """Like ``rows``, for the second view's index; empty when that build has none of the requested view."""
    second_index: faiss.Index | None


def _previous_second(folder: Path, meta: dict[str, object], passages: list[str], second: SecondView | None) -> tuple[
    dict[str, int], faiss.Index | None
]:
    """The previous build's second-view rows by passage hash, when it holds the requested view's vectors."""
    path = folder / SECOND_INDEX_FILE
    if second is None or meta.get("second_view") != second.id or not path.is_file():
        return {}, None
    try:
        index = read_faiss(path)
    except RuntimeError:
        return {}, None
    if index.ntotal != len(passages):
        return {}, None
    return {h: row for row, h in enumerate(passages)}, index


def _previous_build(index_root: Path, encoder_id: str, full: bool, second: SecondView | None = None) -> _Previous:
    marker = index_root / CURRENT
    if not marker.is_file():
        return _Previous({}, {}, None, "no previous build", {}, None)
    folder = index_root / marker.read_text().strip()
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, json.JSONDecodeError):
        return _Previous({}, {}, None, f"previous build {folder.name} has no readable meta.json", {}, None)
    hashes = dict(meta.get("article_hashes", {}))
    if full:
        return _Previous(hashes, {}, None, "full rebuild requested", {}, None)
    if meta.get("encoder_id") != encoder_id:
        return _Previous(hashes, {}, None, f"previous build was encoded by {meta.get('encoder_id')!r}", {}, None)
    try:
        passages = json.loads((folder / HASHES_FILE).read_text())
        index = read_faiss(folder / INDEX_FILE)
    except (OSError, json.JSONDecodeError, RuntimeError):
        return _Previous(
            hashes, {}, None, f"previous build {folder.name} has no readable passage hashes or index", {}, None
        )
    if index.ntotal != len(passages):
        return _Previous(
            hashes, {}, None, f"previous build {folder.name} has {index.ntotal} vectors, {len(passages)} hashes", {}, None
        )
    rows = {h: row for row, h in enumerate(passages)}
    return _Previous(hashes, rows, index, None, *_previous_second(folder, meta, passages, second))


def _vectors(
    encode: Callable[[list[str]], np.ndarray],
    dim: int,
    texts: list[str],
    hashes: list[str],
    previous_rows: dict[str, int],
    previous_index: faiss.Index | None,
    progress: Progress | None,
    label: str = "sections",
) -> tuple[np.ndarray, int, int]:
    """One vector per passage, reused where the previous build has its hash; also (encoded, reused) counts."""
    vectors = np.empty((len(texts), dim), dtype=np.float32)
    reuse = [(i, previous_rows[h]) for i, h in enumerate(hashes) if h in previous_rows]
    if reuse:
        assert previous_index is not None  # rows come only with the index they point into
        old_rows = np.fromiter((row for _, row in reuse), dtype=np.int64, count=len(reuse))
        vectors[[i for i, _ in reuse]] = previous_index.reconstruct_batch(old_rows)
    # A passage that occurs twice (a section repeated across articles) is encoded once.
    pending = list({h: t for h, t in zip(hashes, texts, strict=True) if h not in previous_rows}.items())
    if progress:
        progress(0, len(pending), label)
    fresh: dict[str, np.ndarray] = {}
    for start in range(0, len(pending), ENCODE_STEP):
        batch = pending[start : start + ENCODE_STEP]
        for (h, _), vector in zip(batch, encode([t for _, t in batch]), strict=True):
            fresh[h] = vector
        if progress:
            progress(start + len(batch), len(pending), label)
    for i, h in enumerate(hashes):
        if h in fresh:
            vectors[i] = fresh[h]
    return vectors, len(pending), len(reuse)


def build_index(
    encoder: Encoder,
    articles: list[Article],
    index_root: Path,
    progress: Progress | None = None,
    *,
    full: bool = False,
    index_type: str = "auto",
    exact_max_chunks: int = 100_000,
    window_sentences: int = 1,
    second: SecondView | None = None,
) -> IndexReport:
    """Encode the passages the current build lacks, write a new build folder and make it current.

    ``full`` re-encodes every passage (after an encoder upgrade that kept its id, or to rule out a bad build).
    ``window_sentences`` is the length of the sections' sentence windows; 0 indexes whole sections only.
    ``second`` also indexes every passage by that encoder (``retrieval_second_view``).
    """
    chunks = [c for a in articles for c in chunk_article(a)]
    by_id = {a.id: a for a in articles}
    section_texts = [passage_text(by_id[c.article_id], c) for c in chunks]
    windows = [w for row, c in enumerate(chunks) for w in section_windows(row, c.text, window_sentences)]
    texts = section_texts + [
        passage_text(by_id[chunks[w.chunk].article_id], chunks[w.chunk], window_text(chunks[w.chunk].text, w))
        for w in windows
    ]
    hashes = [_digest(t) for t in texts]
    kind = choose_index_type(len(chunks), index_type, exact_max_chunks)
    previous = _previous_build(index_root, encoder.id, full, second)
    vectors, encoded, reused = _vectors(
        encoder.encode_passages, encoder.dim, texts, hashes, previous.rows, previous.index, progress
    )
    index = _empty_index(kind, encoder.dim)
    index.add(vectors)
    second_index = None
    second_encoded = 0
    if second is not None:
        second_vectors, second_encoded, _ = _vectors(
            second.encode, second.dim, texts, hashes, previous.second_rows, previous.second_index, progress,
            "second view",
        )
        # Flat whatever the e5 index's type: the retriever only reads rows the e5 search nominated.
        second_index = faiss.IndexFlatIP(second.dim)
        second_index.add(second_vectors)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = index_root / stamp
    folder.mkdir(parents=True)
    faiss.write_index(index, str(folder / INDEX_FILE))
    if second_index is not None:
        faiss.write_index(second_index, str(folder / SECOND_INDEX_FILE))
    (folder / HASHES_FILE).write_text(json.dumps(hashes))
    build_lexical(section_texts, [by_id[c.article_id].language for c in chunks], folder)
    write_store(folder, articles, chunks, windows)
    article_hashes = {a.id: article_hash(a) for a in articles}
    meta = {
        "encoder_id": encoder.id,
        "second_view": second.id if second is not None else None,
        "built_at": stamp,
        "articles": len(articles),
        "chunks": len(chunks),
        "windows": len(windows),
        "window_sentences": window_sentences,
        "passage_format": PASSAGE_FORMAT,
        "index_type": kind,
        "encoded": encoded,
        "reused": reused,
        "article_hashes": article_hashes,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    tmp = index_root / f".{CURRENT}.tmp"
    tmp.write_text(stamp)
    tmp.replace(index_root / CURRENT)
    _prune(index_root, keep=stamp)

    old = previous.article_hashes
    return IndexReport(
        folder=folder,
        index_type=kind,
        articles=len(articles),
        chunks=len(chunks),
        windows=len(windows),
        encoded=encoded,
        reused=reused,
        added=tuple(a for a in article_hashes if a not in old),
        changed=tuple(a for a, h in article_hashes.items() if a in old and old[a] != h),
        deleted=tuple(a for a in old if a not in article_hashes),
        unchanged=sum(1 for a, h in article_hashes.items() if old.get(a) == h),
        full_reason=previous.unusable,
        second_view=second.id if second is not None else None,
        second_encoded=second_encoded,
    )


def current_meta(index_root: Path) -> dict[str, object] | None:
    """The current build's ``meta.json``; None when there is no readable one."""
    try:
        folder = index_root / (index_root / CURRENT).read_text().strip()
        meta: dict[str, object] = json.loads((folder / "meta.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return meta


def _prune(index_root: Path, keep: str) -> None:
    builds = sorted(p for p in index_root.iterdir() if p.is_dir() and p.name != keep)
    for old in builds[: max(0, len(builds) - (KEEP_BUILDS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


class _Spans:
    """Each article's faiss rows from ``article_spans.npy``, by article id (the store maps ids to positions)."""

    def __init__(self, store: KBStore, spans: np.ndarray) -> None:
        self._store = store
        self._spans = spans

    def span(self, article_id: str) -> np.ndarray | None:
        """[first section, end of sections, first window row, end of window rows); None for an unknown article."""
        pos = self._store.position(article_id)
        return None if pos is None else self._spans[pos]


class _RowsOf(Mapping[str, np.ndarray]):
    """``KBIndex.rows_of``: an article's faiss rows, its sections in order, then their windows; articles without
    sections are absent."""

    def __init__(self, spans: _Spans, store: KBStore) -> None:
        self._spans = spans
        self._store = store

    def __getitem__(self, article_id: str) -> np.ndarray:
        span = self._spans.span(article_id)
        if span is None or span[0] == span[1]:
            raise KeyError(article_id)
        return np.concatenate([np.arange(span[0], span[1]), np.arange(span[2], span[3])])

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, str):
            return False
        span = self._spans.span(article_id)
        return span is not None and span[0] < span[1]

    def __iter__(self) -> Iterator[str]:
        return (a.id for a in self._store.iter_articles() if a.id in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _ChunksOf(_RowsOf):
    """``KBIndex.chunks_of``: an article's section rows."""

    def __getitem__(self, article_id: str) -> range:  # type: ignore[override]
        span = self._spans.span(article_id)
        if span is None or span[0] == span[1]:
            raise KeyError(article_id)
        return range(int(span[0]), int(span[1]))


class KBIndex:
    """A loaded build: the faiss index plus the chunks, windows and articles it points to, all read from mapped
    files (``articles``, ``chunks``, ``family``, ``rows_of`` and ``chunks_of`` are read-only views)."""

    def __init__(
        self, folder: Path, encoder_id: str, lexical: bool = True, hnsw_ef_search: int = HNSW_EF_SEARCH
    ) -> None:
        """``lexical`` False leaves the BM25 index unloaded: dense-only retrieval never reads it."""
        meta = json.loads((folder / "meta.json").read_text())
        if vector_space(meta["encoder_id"]) != vector_space(encoder_id):
            raise ModelError(
                f"KB index {folder.name} was built with encoder {meta['encoder_id']!r}, the service runs "
                f"{encoder_id!r}: rebuild it with `sift index`"
            )
        self.folder = folder
        # The per-article hashes only serve the next build; the summary is what reload reports.
        self.meta = {key: value for key, value in meta.items() if key != "article_hashes"}
        self.index = read_faiss(folder / INDEX_FILE)
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = hnsw_ef_search
        second = folder / SECOND_INDEX_FILE
        self.second: faiss.Index | None = read_faiss(second) if meta.get("second_view") and second.is_file() else None
        """The second view's vectors, row for row (``retrieval_second_view``); None in a build without them."""
        self.lexical = LexicalIndex(folder) if lexical and (folder / LEXICAL_DIR).is_dir() else None
        if not has_store(folder):  # a build from before the store: converted once, in place
            try:
                convert_jsonl_build(folder)
            except (OSError, sqlite3.Error) as exc:
                raise NotReady(f"KB index {folder} predates the store and cannot be converted ({exc}): "
                               "rebuild it with `sift index`") from exc
        self.store = KBStore(folder)
        rows = np.load(folder / ROWS_FILE, mmap_mode="r")
        self.row_chunk: np.ndarray = rows[:, 0]
        """Per faiss row, the section it is or belongs to (a section's own row for a section)."""
        self.row_start: np.ndarray = rows[:, 1]
        """Per faiss row, the window's offset in its section's flattened text (0 for a section)."""
        self.chunk_article: np.ndarray = np.load(folder / CHUNK_ARTICLE_FILE, mmap_mode="r")
        """Per section, its article's position in the store."""
        spans = _Spans(self.store, np.load(folder / SPANS_FILE, mmap_mode="r"))
        self.articles: Mapping[str, Article] = ArticleView(self.store)
        self.chunks = ChunkView(self.store)
        self.family: Mapping[str, dict[str, str]] = FamilyView(self.store)
        """Family id -> {language: article id} of its versions."""
        self.rows_of: Mapping[str, np.ndarray] = _RowsOf(spans, self.store)
        """Each article's faiss rows: its sections in order, then their windows."""
        self.chunks_of: Mapping[str, range] = _ChunksOf(spans, self.store)

    def articles_at(self, positions: list[int] | np.ndarray) -> list[Article]:
        """Articles by store position (``chunk_article`` gives a section's), in one read for those not cached."""
        return self.store.articles_at(np.asarray(positions).tolist())

    @classmethod
    def current(
        cls, index_root: Path, encoder_id: str, lexical: bool = True, hnsw_ef_search: int = HNSW_EF_SEARCH
    ) -> KBIndex:
        marker = index_root / CURRENT
        if not marker.is_file():
            raise NotReady(f"no KB index under {index_root}: run `sift index`")
        return cls(index_root / marker.read_text().strip(), encoder_id, lexical, hnsw_ef_search)

    def vectors(self, rows: list[int] | np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def second_vectors(self, rows: list[int] | np.ndarray) -> np.ndarray:
        assert self.second is not None
        return self.second.reconstruct_batch(np.asarray(rows, dtype=np.int64))
