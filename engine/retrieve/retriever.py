"""Hybrid retrieval over the KB index, one hit per article family.

Dense search (faiss over the shared encoder) finds answers across languages;
BM25 finds exact terms (product names, error codes, order of words) within one.
Each ranks article families by their best chunk; reciprocal rank fusion merges
the two. Translations of one article form a family, shown in the customer's
language when the KB has that version: a Croatian customer finds the English
article's Croatian twin.

Each hit carries the passage of its section that best matches the query (with
the matched terms' offsets) and its answer confidence: the calibrated probability
that it answers the query (see ``confidence.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.retrieve.analysis import analyse
from engine.retrieve.confidence import ConfidenceModel, HitSignals, feature_matrix
from engine.retrieve.index import KBIndex
from engine.retrieve.kb import Article, Chunk
from engine.retrieve.snippets import best_snippet, flatten, section_terms
from engine.types import ArticleHit

if TYPE_CHECKING:  # the registry loads the answer-confidence model from this package
    from engine.models.registry import ModelRegistry

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


@dataclass(frozen=True)
class _Query:
    vector: np.ndarray
    language: str
    terms: frozenset[str]
    """Distinct analysed terms of the query text; empty when no text was given."""


def _margins(similarities: dict[str, float], hits: list[tuple[str, float]]) -> list[float]:
    """Each hit's similarity minus the best similarity of any other family (candidates and hits)."""
    best = dict(similarities)
    for family, similarity in hits:
        best[family] = max(best.get(family, similarity), similarity)
    ranked = sorted(best.items(), key=lambda item: -item[1])[:2]
    margins = []
    for family, similarity in hits:
        others = [s for f, s in ranked if f != family]
        margins.append(similarity - (others[0] if others else 0.0))
    return margins


class Retriever:
    def __init__(
        self,
        registry: ModelRegistry,
        index_root: Path,
        topic_prior_weight: float = 0.0,
        mode: str = "hybrid",
        weights: dict[str, float] | None = None,
        confidence: ConfidenceModel | None = None,
    ) -> None:
        """``confidence`` replaces the registry's answer-confidence model (the trainer records features with it)."""
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval mode must be one of {RETRIEVAL_MODES}; got {mode!r}")
        self._registry = registry
        self._prior_weight = topic_prior_weight
        self._mode = mode
        self._weights = weights or {}
        self._root = index_root
        self._index: KBIndex | None = None
        self._lock = threading.Lock()
        self._confidence = confidence

    def warm_up(self) -> None:
        self.reload()
        _ = self.confidence

    @property
    def confidence(self) -> ConfidenceModel:
        return self._confidence if self._confidence is not None else self._registry.answer_confidence

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

        ``texts`` enables the lexical (BM25) side, the snippets' passage choice and highlights, and the
        answer confidence's term signals (without them it rests on similarities alone and reads lower);
        ``topic_priors[i]`` (topic -> probability)
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
            similarities, dense = self._dense_families(index, scores[i], rows[i], allowed, prior)
            rankings: dict[str, dict[str, float]] = {}
            if self._mode in ("dense", "hybrid"):
                rankings["dense"] = dense
            if self._mode in ("lexical", "hybrid") and texts is not None and index.lexical is not None:
                rankings["lexical"] = self._lexical_families(index, texts[i], languages[i], k, allowed)
            terms = frozenset(analyse(texts[i], languages[i])) if texts is not None else frozenset()
            query = _Query(queries[i], languages[i], terms)
            results.append(self._hits(index, query, top_k, allowed, rankings, similarities))
        return results

    def _dense_families(
        self, index: KBIndex, scores: np.ndarray, rows: np.ndarray, allowed: SearchFilter, prior: dict[str, float]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Each candidate family's best cosine similarity, and the same plus the topic prior (its dense rank)."""
        similarities: dict[str, float] = {}
        ranked: dict[str, float] = {}
        for score, row in zip(scores, rows, strict=True):
            if row < 0:
                continue
            article = index.articles[index.chunks[row].article_id]
            if allowed.allows(article) and article.family not in similarities:
                similarities[article.family] = float(score)
                ranked[article.family] = float(score) + self._prior_weight * prior.get(article.topic or "", 0.0)
        return similarities, ranked

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
        query: _Query,
        top_k: int,
        allowed: SearchFilter,
        rankings: dict[str, dict[str, float]],
        similarities: dict[str, float],
    ) -> list[ArticleHit]:
        fused = self._fuse(rankings)
        ranked = sorted(fused, key=lambda f: -fused[f])[:top_k]
        found: list[tuple[str, float, Article, Chunk]] = []
        for family in ranked:
            versions = [index.articles[a] for a in index.family[family].values()]
            versions = [a for a in versions if allowed.allows(a)]
            # The customer's language first, then the family's original, never a third language.
            preferred = [a for a in versions if a.language == query.language] or [
                a for a in versions if a.id == family
            ] or versions
            best: tuple[float, Article, Chunk] | None = None
            for article in preferred:
                rows_of = index.chunks_of.get(article.id, [])
                if not rows_of:
                    continue
                chunk_scores = index.vectors(rows_of) @ query.vector
                j = int(np.argmax(chunk_scores))
                if best is None or chunk_scores[j] > best[0]:
                    best = (float(chunk_scores[j]), article, index.chunks[rows_of[j]])
            if best is not None:
                found.append((family, *best))
        if not found:
            return []
        margins = _margins(similarities, [(family, similarity) for family, similarity, _, _ in found])
        signals = [
            HitSignals(
                similarity=similarity,
                margin=margin,
                term_overlap=self._overlap(query, article, chunk),
                same_language=article.language == query.language,
                query_terms=len(query.terms),
            )
            for (_, similarity, article, chunk), margin in zip(found, margins, strict=True)
        ]
        confidences = self.confidence.probability(feature_matrix(signals))
        hits = []
        for (family, similarity, article, chunk), confidence in zip(found, confidences, strict=True):
            passage = best_snippet(chunk.text, article.language, query.terms)
            hits.append(
                ArticleHit(
                    id=article.id,
                    title=article.title,
                    language=article.language,
                    section=chunk.section,
                    anchor=chunk.anchor,
                    snippet=passage.text,
                    body=chunk.text,
                    score=round(fused[family], 4),
                    similarity=round(similarity, 4),
                    topic=article.topic,
                    product=article.product,
                    translation_of=article.translation_of,
                    sources=tuple(name for name, families in rankings.items() if family in families),
                    answer_confidence=round(float(confidence), 4),
                    highlights=passage.highlights,
                )
            )
        return hits

    @staticmethod
    def _overlap(query: _Query, article: Article, chunk: Chunk) -> float:
        """Share of the query's terms in the section, its heading or its article's title."""
        if not query.terms:
            return 0.0
        found = {t for _, _, t in section_terms(flatten(chunk.text), article.language)}
        found.update(t for _, _, t in section_terms(f"{article.title} {chunk.section}", article.language))
        return len(query.terms & found) / len(query.terms)
