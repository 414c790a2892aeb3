"""The on-disk KB index: a faiss inner-product index over section chunks.

Each build goes to its own folder and a ``CURRENT`` file is swapped atomically
afterwards, so a running service never reads a half-written index and can pick
up the new one on reload.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from engine.errors import ModelError, NotReady
from engine.models.encoders import Encoder
from engine.retrieve.kb import Article, Chunk, chunk_article
from engine.retrieve.lexical import LEXICAL_DIR, LexicalIndex, build_lexical

CURRENT = "CURRENT"
KEEP_BUILDS = 3


def passage_text(article: Article, chunk: Chunk) -> str:
    """What the encoder and BM25 see: the article's question (title), the section heading, its text."""
    head = [part for part in (article.title, chunk.section if chunk.section != article.title else "") if part]
    return "\n".join([". ".join(head), chunk.text]) if head else chunk.text


def build_index(
    encoder: Encoder,
    articles: list[Article],
    index_root: Path,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Encode every chunk, write a new build folder and make it current."""
    chunks = [c for a in articles for c in chunk_article(a)]
    by_id = {a.id: a for a in articles}
    texts = [passage_text(by_id[c.article_id], c) for c in chunks]
    step = 32
    parts = []
    for start in range(0, len(texts), step):
        parts.append(encoder.encode_passages(texts[start : start + step]))
        if progress:
            progress(min(step, len(texts) - start))
    vectors = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, encoder.dim), np.float32)
    index = faiss.IndexFlatIP(encoder.dim)
    index.add(vectors)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = index_root / stamp
    folder.mkdir(parents=True)
    faiss.write_index(index, str(folder / "index.faiss"))
    build_lexical(texts, [by_id[c.article_id].language for c in chunks], folder)
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps(asdict(a), ensure_ascii=False) + "\n")
    with (folder / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    meta = {"encoder_id": encoder.id, "built_at": stamp, "articles": len(articles), "chunks": len(chunks)}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    tmp = index_root / f".{CURRENT}.tmp"
    tmp.write_text(stamp)
    tmp.replace(index_root / CURRENT)
    _prune(index_root, keep=stamp)
    return folder


def _prune(index_root: Path, keep: str) -> None:
    builds = sorted(p for p in index_root.iterdir() if p.is_dir() and p.name != keep)
    for old in builds[: max(0, len(builds) - (KEEP_BUILDS - 1))]:
        shutil.rmtree(old, ignore_errors=True)


class KBIndex:
    """A loaded build: the faiss index plus the chunks and articles it points to."""

    def __init__(self, folder: Path, encoder_id: str) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        if meta["encoder_id"] != encoder_id:
            raise ModelError(
                f"KB index {folder.name} was built with encoder {meta['encoder_id']!r}, the service runs "
                f"{encoder_id!r}: rebuild it with `sift index`"
            )
        self.folder = folder
        self.meta = meta
        self.index = faiss.read_index(str(folder / "index.faiss"))
        self.lexical = LexicalIndex(folder) if (folder / LEXICAL_DIR).is_dir() else None
        self.articles = {
            a["id"]: Article(**{**a, "tags": tuple(a["tags"])})
            for a in map(json.loads, (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines())
        }
        self.chunks = [
            Chunk(**c) for c in map(json.loads, (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines())
        ]
        self.chunks_of: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            self.chunks_of.setdefault(chunk.article_id, []).append(i)
        self.family: dict[str, dict[str, str]] = {}
        for article in self.articles.values():
            self.family.setdefault(article.family, {})[article.language] = article.id

    @classmethod
    def current(cls, index_root: Path, encoder_id: str) -> KBIndex:
        marker = index_root / CURRENT
        if not marker.is_file():
            raise NotReady(f"no KB index under {index_root}: run `sift index`")
        return cls(index_root / marker.read_text().strip(), encoder_id)

    def vectors(self, rows: list[int]) -> np.ndarray:
        return np.vstack([self.index.reconstruct(int(r)) for r in rows])
