"""Hybrid retrieval over the KB index, one hit per article family.

Dense search (faiss over the shared encoder) finds answers across languages;
BM25 finds exact terms (product names, error codes, order of words) within one.
Each ranks article families by their best chunk; reciprocal rank fusion merges
the two. Translations of one article form a family, shown in the customer's
language when the KB has that version: a Croatian customer finds the English
article's Croatian twin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.models.registry import ModelRegistry
from engine.retrieve.index import KBIndex
from engine.retrieve.kb import Article, Chunk
from engine.types import ArticleHit

SNIPPET_CHARS = 240
CANDIDATES_PER_HIT = 10
RRF_K = 60
RETRIEVAL_MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on which articles may be returned."""

    include_internal: bool = False
    products: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)

    def allows(self, article: Article) -> bool:
        if article.audience != "public" and not self.include_internal:
            return False
        if self.products and article.product not in self.products:
            return False
        return not self.languages or article.language in self.languages


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.replace("**", "").split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > 0 else limit].rstrip(",;:") + " …"


class Retriever:
    def __init__(
        self,
        registry: ModelRegistry,
        index_root: Path,
        topic_prior_weight: float = 0.0,
        mode: str = "hybrid",
        weights: dict[str, float] | None = None,
    ) -> None:
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval mode must be one of {RETRIEVAL_MODES}; got {mode!r}")
        self._registry = registry
        self._prior_weight = topic_prior_weight
        self._mode = mode
        self._weights = weights or {}
        self._root = index_root
        self._index: KBIndex | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self.reload()

    def reload(self) -> KBIndex:
        """Load the current index build; in-flight searches keep the one they started with."""
        index = KBIndex.current(self._root, self._registry.encoder.id)
        with self._lock:
            self._index = index
        return index

    @property
    def index(self) -> KBIndex:
        return self._index if self._index is not None else self.reload()

    def run(
        self,
        queries: np.ndarray,
        languages: list[str],
        top_k: int,
        search_filter: SearchFilter | None = None,
        topic_priors: list[dict[str, float]] | None = None,
        texts: list[str] | None = None,
    ) -> list[list[ArticleHit]]:
        """Top articles per query.

        ``texts`` enables the lexical (BM25) side; ``topic_priors[i]`` (topic -> probability)
        nudges the dense side towards the topics a classifier believes in, because dense
        similarity alone favours sections in the query's own language.
        """
        index = self.index
        allowed = search_filter or SearchFilter()
        if index.index.ntotal == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        k = min(index.index.ntotal, top_k * CANDIDATES_PER_HIT)
        scores, rows = index.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        results = []
        for i in range(len(queries)):
            prior = topic_priors[i] if topic_priors else {}
            rankings: dict[str, dict[str, float]] = {}
            if self._mode in ("dense", "hybrid"):
                rankings["dense"] = self._dense_families(index, scores[i], rows[i], allowed, prior)
            if self._mode in ("lexical", "hybrid") and texts is not None and index.lexical is not None:
                rankings["lexical"] = self._lexical_families(index, texts[i], languages[i], k, allowed)
            results.append(self._hits(index, queries[i], languages[i], top_k, allowed, rankings))
        return results

    def _dense_families(
        self, index: KBIndex, scores: np.ndarray, rows: np.ndarray, allowed: SearchFilter, prior: dict[str, float]
    ) -> dict[str, float]:
        families: dict[str, float] = {}
        for score, row in zip(scores, rows, strict=True):
            if row < 0:
                continue
            article = index.articles[index.chunks[row].article_id]
            if allowed.allows(article) and article.family not in families:
                families[article.family] = float(score) + self._prior_weight * prior.get(article.topic or "", 0.0)
        return families

    @staticmethod
    def _lexical_families(index: KBIndex, text: str, language: str, k: int, allowed: SearchFilter) -> dict[str, float]:
        assert index.lexical is not None
        bm25 = index.lexical.scores(text, language)
        families: dict[str, float] = {}
        for row in np.argsort(-bm25)[:k]:
            if bm25[row] <= 0:
                break
            article = index.articles[index.chunks[int(row)].article_id]
            # Across languages BM25 only matches names and numbers; it would outvote dense search.
            if article.language != language:
                continue
            if allowed.allows(article) and article.family not in families:
                families[article.family] = float(bm25[row])
        return families

    def _fuse(self, rankings: dict[str, dict[str, float]]) -> dict[str, float]:
        """Reciprocal rank fusion: robust to the two retrievers' incomparable score scales."""
        if len(rankings) == 1:
            return next(iter(rankings.values()))
        fused: dict[str, float] = {}
        for name, families in rankings.items():
            weight = self._weights.get(name, 1.0)
            for rank, family in enumerate(sorted(families, key=lambda f: -families[f]), start=1):
                fused[family] = fused.get(family, 0.0) + weight / (RRF_K + rank)
        return fused

    def _hits(
        self,
        index: KBIndex,
        query: np.ndarray,
        language: str,
        top_k: int,
        allowed: SearchFilter,
        rankings: dict[str, dict[str, float]],
    ) -> list[ArticleHit]:
        fused = self._fuse(rankings)
        ranked = sorted(fused, key=lambda f: -fused[f])[:top_k]
        hits = []
        for family in ranked:
            versions = [index.articles[a] for a in index.family[family].values()]
            versions = [a for a in versions if allowed.allows(a)]
            # The customer's language first, then the family's original, never a third language.
            preferred = [a for a in versions if a.language == language] or [
                a for a in versions if a.id == family
            ] or versions
            best: tuple[float, Article, Chunk] | None = None
            for article in preferred:
                rows_of = index.chunks_of.get(article.id, [])
                if not rows_of:
                    continue
                chunk_scores = index.vectors(rows_of) @ query
                j = int(np.argmax(chunk_scores))
                if best is None or chunk_scores[j] > best[0]:
                    best = (float(chunk_scores[j]), article, index.chunks[rows_of[j]])
            if best is None:
                continue
            similarity, article, chunk = best
            hits.append(
                ArticleHit(
                    id=article.id,
                    title=article.title,
                    language=article.language,
                    section=chunk.section,
                    anchor=chunk.anchor,
                    snippet=snippet(chunk.text),
                    body=chunk.text,
                    score=round(fused[family], 4),
                    similarity=round(similarity, 4),
                    topic=article.topic,
                    product=article.product,
                    translation_of=article.translation_of,
                    sources=tuple(name for name, families in rankings.items() if family in families),
                )
            )
        return hits
