"""KB hygiene beside the gaps: near-duplicate articles, possible contradictions, stale articles.

- Near duplicates: two sections of different article families (an article and its declared translations
  are one family, so a translation is never a duplicate) whose indexed vectors are almost the same.
  One of them should go, or both should merge.
- Possible contradictions: two sections of different families that ask the same question (article title
  plus heading, encoded as a query, nearly the same) but whose answer texts are far apart. This is a
  heuristic: a low answer similarity may be a contradiction or only different wording or scope, so it
  lists pairs for a person to read, never a verdict.
- Stale: an article whose ``updated`` date is older than ``STALE_DAYS`` but that the ticket log still
  suggests often, or that agents often rate unhelpful in feedback: old and read, so worth a review first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from engine.kb.articles import Article, Chunk

DUPLICATE = 0.95
"""Section cosine (indexed passage vectors) above which two sections say the same thing. e5 puts paraphrases
of one passage around 0.95 and different passages on one subject under 0.9."""
SAME_QUESTION = 0.95
"""Cosine of two headings (title + section, as queries) above which they ask one question."""
DIFFERENT_ANSWER = 0.85
"""Cosine of two answer texts (without their headings) under which the answers are taken as different."""
STALE_DAYS = 365
SUGGESTED_OFTEN = 20
"""Times an article was a ticket's top suggestion in the log before its age is worth a look."""
UNHELPFUL_OFTEN = 3
"""Unhelpful ratings, also the majority of its ratings, before an article's age is worth a look."""
MAX_PAIRS = 50


@dataclass(frozen=True)
class ArticlePair:
    first: str
    second: str
    section_first: str
    section_second: str
    similarity: float
    """Section similarity for duplicates; heading similarity for contradictions."""
    answer_similarity: float | None = None


@dataclass(frozen=True)
class StaleArticle:
    article: str
    updated: str
    age_days: int
    suggested: int
    unhelpful: int
    rated: int


@dataclass(frozen=True)
class Hygiene:
    duplicates: list[ArticlePair]
    contradictions: list[ArticlePair]
    contradiction_note: str
    stale: list[StaleArticle]


CONTRADICTION_NOTE = (
    "A heuristic: same question (heading similarity >= {q}), different answer (answer-text similarity < {a}). "
    "Different wording or scope also lands here; read both before changing either."
)


def _pairs(vectors: np.ndarray, families: list[str], floor: float) -> list[tuple[int, int, float]]:
    """Index pairs of different families with cosine >= ``floor``, most similar first."""
    if len(vectors) < 2:
        return []
    sims = vectors @ vectors.T
    rows, cols = np.nonzero(np.triu(sims >= floor, k=1))
    found = [(int(i), int(j), float(sims[i, j])) for i, j in zip(rows, cols, strict=True) if families[i] != families[j]]
    return sorted(found, key=lambda p: -p[2])


def _best_per_article_pair(pairs: Iterable[tuple[int, int, float]], chunks: list[Chunk]) -> list[tuple[int, int, float]]:
    """The most similar section pair of each article pair: one line per article pair, not per section."""
    seen: set[tuple[str, str]] = set()
    out = []
    for i, j, sim in pairs:
        key = tuple(sorted((chunks[i].article_id, chunks[j].article_id)))
        if key not in seen:
            seen.add(key)  # type: ignore[arg-type]
            out.append((i, j, sim))
    return out


def duplicates(chunks: list[Chunk], section_vectors: np.ndarray, family: dict[str, str]) -> list[ArticlePair]:
    families = [family[c.article_id] for c in chunks]
    pairs = _best_per_article_pair(_pairs(section_vectors, families, DUPLICATE), chunks)
    return [
        ArticlePair(chunks[i].article_id, chunks[j].article_id, chunks[i].section, chunks[j].section, round(s, 4))
        for i, j, s in pairs[:MAX_PAIRS]
    ]


def contradictions(
    articles: dict[str, Article], chunks: list[Chunk], family: dict[str, str],
    encode_queries: Callable[[list[str]], np.ndarray], encode_passages: Callable[[list[str]], np.ndarray],
) -> list[ArticlePair]:
    """Pairs asking one question with different answers; only the candidates' answers are encoded."""
    headings = [
        ". ".join(dict.fromkeys(p for p in (articles[c.article_id].title, c.section) if p)) for c in chunks
    ]
    heading_vectors = np.asarray(encode_queries(headings), dtype=np.float32)
    candidates = _best_per_article_pair(
        _pairs(heading_vectors, [family[c.article_id] for c in chunks], SAME_QUESTION), chunks
    )
    if not candidates:
        return []
    involved = sorted({k for i, j, _ in candidates for k in (i, j)})
    answers = dict(zip(involved, np.asarray(encode_passages([chunks[k].text for k in involved])), strict=True))
    out = []
    for i, j, sim in candidates:
        answer_sim = float(answers[i] @ answers[j])
        if answer_sim < DIFFERENT_ANSWER:
            out.append(ArticlePair(
                chunks[i].article_id, chunks[j].article_id, chunks[i].section, chunks[j].section,
                round(sim, 4), round(answer_sim, 4),
            ))
    return out[:MAX_PAIRS]


def stale(
    articles: Iterable[Article], suggested: Counter[str], ratings: Iterable[tuple[str, bool]], today: date,
) -> list[StaleArticle]:
    """Old articles still suggested often or rated unhelpful often, most suggested first.

    ``suggested`` counts each article as a ticket's top suggestion; ``ratings`` are (article, helped) pairs
    from feedback. An article without a readable ``updated`` date is not judged: its age is unknown.
    """
    rated: Counter[str] = Counter()
    unhelpful: Counter[str] = Counter()
    for article_id, helped in ratings:
        rated[article_id] += 1
        unhelpful[article_id] += not helped
    out = []
    for article in articles:
        try:
            updated = date.fromisoformat((article.updated or "")[:10])
        except ValueError:
            continue
        age = (today - updated).days
        often_unhelpful = unhelpful[article.id] >= UNHELPFUL_OFTEN and 2 * unhelpful[article.id] > rated[article.id]
        if age > STALE_DAYS and (suggested[article.id] >= SUGGESTED_OFTEN or often_unhelpful):
            out.append(StaleArticle(
                article.id, updated.isoformat(), age, suggested[article.id], unhelpful[article.id], rated[article.id]
            ))
    return sorted(out, key=lambda s: (-s.suggested, -s.unhelpful, s.article))


def hygiene(
    articles: dict[str, Article], chunks: list[Chunk], section_vectors: np.ndarray,
    encode_queries: Callable[[list[str]], np.ndarray], encode_passages: Callable[[list[str]], np.ndarray],
    suggested: Counter[str], ratings: Iterable[tuple[str, bool]], today: date,
) -> Hygiene:
    """All three checks over one KB: its articles, its sections and their indexed vectors (same order)."""
    family = {a.id: a.family for a in articles.values()}
    return Hygiene(
        duplicates=duplicates(chunks, section_vectors, family),
        contradictions=contradictions(articles, chunks, family, encode_queries, encode_passages),
        contradiction_note=CONTRADICTION_NOTE.format(q=SAME_QUESTION, a=DIFFERENT_ANSWER),
        stale=stale(articles.values(), suggested, ratings, today),
    )
