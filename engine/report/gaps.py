"""KB gaps: what customers keep asking that no article answers, grouped, ranked by volume, with suggested titles.

A ticket counts as unanswered when its top article's answer confidence (the
calibrated probability that it answers, ``engine/retrieve/confidence.py``) stayed
under the policy's ``thresholds.answer_confidence``: the same rule that hands it to a person.
Those tickets are encoded again by the service's encoder (the ticket log keeps
results, not vectors) and grouped by average-linkage clustering on cosine
distance, so a gap asked in Croatian and in German lands in one cluster. Each
cluster's suggested title is its most central ticket's subject or first
sentence; its keywords are the words most particular to it against all the
unanswered tickets (a class-based TF-IDF, as BERTopic names topics). Clustering
runs twice: tickets into questions, then questions whose centroids are close into
one gap (what one article would answer); the questions are the gap's outline. A subject's questions ask different
facts, so besides their centroids the second stage compares where they sit among the KB's articles (their cosines
to every article): questions near and far from the same articles are about the same subject, in any language.
Each question is checked against the tickets the KB did answer before it merges, so one that an existing article
answers for others goes to a separate list of articles to update.

Gaps are ranked by volume × trend: a group that grows week on week outranks a
larger one that is fading, since the article written today serves next month's
tickets. Where the KB's section vectors are given, each gap names the existing
article nearest to its centroid, with the cosine: a writer extends that one
rather than adding a near-duplicate.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from engine.normalise import Normaliser, encoder_text
from engine.privacy.owner_only import write_private_text
from engine.privacy.pii import find_pii
from engine.privacy.redact import redact_text
from engine.retrieve.analysis import stop_words
from engine.types import Ticket

if TYPE_CHECKING:
    from engine.report.gap_followup import FollowUp
    from engine.report.kb_hygiene import Hygiene

DISTANCE_THRESHOLD = 0.12
"""Average cosine distance under which tickets share a gap, chosen on CLINC150's validation queries (150 intents:
best adjusted Rand index of 0.08-0.20, eval/gap_clustering.py). e5 compresses cosines (unrelated texts near 0.8)."""
MIN_TICKETS = 3
"""Fewest tickets asking one of a gap's questions alike for the gap to be reported. Two alike is chance on a busy log:
on eval/gap_removal.py's three samples, 2 reported gaps on present articles for 27%, 20% and 18% of its groups, 3 for
9%, 15% and 8% (found removed articles in the top 20 unchanged, 65-70%; at any rank 85-95% → 80-85%)."""
MAX_TICKETS = 5000
"""Most recent unanswered tickets clustered at once: the distance matrix grows with their square (5,000: 200 MB)."""
TITLE_CHARS = 90
KEYWORDS = 5
EXAMPLES = 3
OUTLINE_POINTS = 5
MERGE_DISTANCE = 0.1
"""Cosine distance between question groups' centroids under which they are one gap when the KB's section vectors
are not given: the questions one article would answer. Centroids sit closer than their tickets: "buy a gift card"
and "apply for a job" are 0.12 apart, so the cut stays under that (0.16 merged those two)."""
SUBJECT_CENTROID_DISTANCE = 0.2
"""With the KB's sections: the centroid distance under which question groups may be one gap, if their KB profiles
agree too (``SUBJECT_DISTANCE``). Alone, 0.2 would merge unrelated questions; the profile keeps them apart."""
SUBJECT_DISTANCE = 0.4
"""Cosine distance between question groups' KB profiles (``kb_profile``) under which they are about one subject.
Both cuts were chosen on eval/gap_removal.py's explored sample (seed 21) among 0.18-0.25 and 0.3-0.8: 0.2 and 0.4
found the most removed articles in the top 20 with the fewest gaps on present ones; wider centroid cuts merged
removed articles' questions into present articles' gaps, and the profile alone (without the centroid's cut) did
too. A profile cut of 0.6 split fewer removed articles there (65% found by one gap, not 53%), but over the shipped
45-article KB it merged "can I buy a gift card?" with "are you hiring?" (profiles 0.51 apart): kept at 0.4."""
PROFILE_ARTICLES = 40
"""Fewest articles for KB profiles to tell subjects apart. Two unrelated profiles over n articles have a cosine of
about 0 ± 1/sqrt(n): over 40 articles the cosine of 0.6 that ``SUBJECT_DISTANCE`` asks for is about 4 standard
deviations above chance (real profiles agree more than random ones, hence that cut); over the 6 of a small KB it is chance, and there questions about a gift card and a job merged."""
PROFILE_ROWS = 256
"""Questions whose cosines to every section are held at once while their KB profiles are computed."""
ANSWERED_RADIUS = 0.15
"""Cosine distance from a gap's centroid within which a ticket, answered or not, asks the same thing."""
ANSWERED_ELSEWHERE = 1 / 3
"""Share of those tickets answered above which a group is no missing article but an existing one that misses
some phrasings or languages: it is listed apart, as an article to update. Fixed at "one in three" before
measuring; ``eval/gap_removal.py`` reports the figures with it on a second, unexplored sample. The radius was
chosen on its first sample (0.12 let more present articles' tickets through as gaps)."""
TREND_FLOOR = 0.25
"""Lowest trend factor: a fading gap still ranks by a quarter of its volume, so a large old one is not lost."""
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class LoggedTicket:
    """What the report reads of one processed ticket in the ticket log."""

    id: str
    received_at: str
    payload: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class SectionVectors:
    """The KB's sections as the index holds them: one article id and one unit vector per row."""

    article_ids: list[str]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The article with the section most similar to ``vector``, and that cosine."""
        if not self.article_ids:
            return None, 0.0
        scores = self.vectors @ vector
        best = int(np.argmax(scores))
        return self.article_ids[best], round(float(scores[best]), 4)


@dataclass(frozen=True)
class Trend:
    """Tickets per ISO week from the gap's first week to the report's, and the fitted change per week."""

    weeks: dict[str, int]
    slope: float
    """Tickets per week gained each week (least squares over the weekly counts)."""
    factor: float
    """1 + slope relative to the mean weekly count, floored at ``TREND_FLOOR``: what volume is multiplied by."""


@dataclass(frozen=True)
class Gap:
    tickets: int
    score: float
    """Volume × trend factor: the ranking."""
    trend: Trend
    suggested_title: str
    outline: list[str]
    """The gap's distinct questions, most asked first: the sections an article answering it would need."""
    keywords: list[str]
    languages: dict[str, int]
    topics: dict[str, int]
    closest_article: str | None
    """The article the KB came closest with (most often on top), a candidate to extend rather than write anew."""
    best_confidence: float
    nearest_article: str | None
    """The article whose section is nearest the gap's centroid (None without the KB's vectors)."""
    nearest_similarity: float
    answered_nearby: float
    """Share of the recent tickets within ``ANSWERED_RADIUS`` of the centroid that the KB did answer."""
    examples: list[str]
    ticket_ids: list[str] = field(repr=False)
    centroid: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class GapReport:
    kb: str | None
    since: str | None
    tickets_read: int
    unanswered: int
    clustered: int
    """The most recent ``MAX_TICKETS`` (or the limit given) of the unanswered tickets."""
    threshold: float
    gaps: list[Gap]
    """Missing articles: groups the KB answers for (almost) nobody who asks."""
    answered_elsewhere: list[Gap] = field(default_factory=list)
    """Groups whose question the KB answers for others (another phrasing or language): update the nearest article."""
    followups: list[FollowUp] = field(default_factory=list)
    """Clusters of the previous report that an article added or updated since now covers."""
    hygiene: Hygiene | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for gap in out["gaps"] + out["answered_elsewhere"]:
            del gap["centroid"]  # vectors are for the follow-up file, not for readers
        return out


def unanswered(tickets: Iterable[LoggedTicket], threshold: float, kb: str | None = None) -> list[LoggedTicket]:
    """Tickets whose top article would not be quoted (or that got none)."""
    return [
        t for t in tickets
        if (kb is None or t.result.get("kb") == kb) and float(t.result.get("answer_confidence") or 0.0) < threshold
    ]


def ticket_text(ticket: LoggedTicket) -> str:
    """The ticket as the encoder reads it: normalised subject and body (quotes and signatures are cut here)."""
    return Normaliser.normalise(Ticket(text=ticket.payload.get("text", ""), subject=ticket.payload.get("subject"))).text


def _title(ticket: LoggedTicket) -> str:
    subject = (ticket.payload.get("subject") or "").strip()
    text = subject or _SENTENCE_END.split(" ".join(ticket_text(ticket).split()), maxsplit=1)[0]
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _words(text: str, language: str) -> set[str]:
    stop = stop_words(language)
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in stop}


def _keywords(members: list[int], words: list[set[str]]) -> list[str]:
    """Words frequent in the cluster and rare among all unanswered tickets (class-based TF-IDF)."""
    in_cluster = Counter(w for i in members for w in words[i])
    overall = Counter(w for ws in words for w in ws)
    n = len(words)
    score = {w: c * math.log(1 + n / overall[w]) for w, c in in_cluster.items() if c > 1 or len(members) == 1}
    return [w for w, _ in sorted(score.items(), key=lambda x: (-x[1], x[0]))[:KEYWORDS]]


def _week(received_at: str) -> date:
    day = datetime.fromisoformat(received_at).date()
    return date.fromordinal(day.toordinal() - day.weekday())


def trend(received_at: list[str], until: str) -> Trend:
    """Weekly counts from the first ticket's week to ``until``'s (empty weeks count as 0) and their slope.

    The slope is relative to the mean weekly count so that a small gap doubling and a large one doubling
    rank alike per ticket; one week alone has no trend (factor 1).
    """
    first = min(_week(r) for r in received_at)
    last = max(_week(until), *(_week(r) for r in received_at))
    n_weeks = (last - first).days // 7 + 1
    counts = np.zeros(n_weeks)
    for r in received_at:
        counts[(_week(r) - first).days // 7] += 1
    slope = float(np.polyfit(np.arange(n_weeks), counts, 1)[0]) if n_weeks > 1 else 0.0
    factor = max(TREND_FLOOR, 1.0 + slope / float(counts.mean()))
    weeks = {date.fromordinal(first.toordinal() + 7 * i).isoformat(): int(c) for i, c in enumerate(counts)}
    return Trend(weeks, round(slope, 4), round(factor, 4))


def outline(questions: list[list[int]], tickets: list[LoggedTicket], vectors: np.ndarray) -> list[str]:
    """The distinct questions in a gap: each question group's most central ticket, largest group first."""
    points = []
    for sub in questions:
        centre = vectors[sub].mean(axis=0)
        points.append((len(sub), _title(tickets[max(sub, key=lambda i: float(vectors[i] @ centre))])))
    points.sort(key=lambda p: (-p[0], p[1]))
    return list(dict.fromkeys(title for _, title in points))[:OUTLINE_POINTS]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _describe(
    questions: list[list[int]], tickets: list[LoggedTicket], vectors: np.ndarray, words: list[set[str]],
    sections: SectionVectors | None, until: str, neighbours: np.ndarray, answered: np.ndarray,
) -> Gap:
    """One group of unanswered tickets as the report shows it, its most central ticket first.

    ``answered_nearby`` looks around each of its questions: a merged gap's own centroid sits between them.
    """
    members = [i for sub in questions for i in sub]
    centre = _unit(vectors[members].mean(axis=0))
    order = sorted(members, key=lambda i: -float(vectors[i] @ centre))
    results = [tickets[i].result for i in members]
    tops = [r["articles"][0] for r in results if r.get("articles")]
    closest = Counter(a["id"] for a in tops).most_common(1)
    nearest, similarity = sections.nearest(centre) if sections is not None else (None, 0.0)
    change = trend([tickets[i].received_at for i in members], until)
    centres = np.stack([_unit(vectors[sub].mean(axis=0)) for sub in questions])
    near = (neighbours @ centres.T).max(axis=1) >= 1.0 - ANSWERED_RADIUS
    return Gap(
        tickets=len(members),
        score=round(len(members) * change.factor, 4),
        trend=change,
        suggested_title=_title(tickets[order[0]]),
        outline=outline(questions, tickets, vectors),
        keywords=_keywords(members, words),
        languages=dict(Counter(_language(r) for r in results).most_common()),
        topics=dict(Counter((r.get("topic") or {}).get("label") or "none" for r in results).most_common()),
        closest_article=closest[0][0] if closest else None,
        best_confidence=round(max((float(a.get("answer_confidence", 0.0)) for a in tops), default=0.0), 4),
        nearest_article=nearest,
        nearest_similarity=similarity,
        answered_nearby=round(float(answered[near].mean()) if near.any() else 0.0, 4),
        examples=[_title(tickets[i]) for i in order[1 : 1 + EXAMPLES]],
        ticket_ids=[tickets[i].id for i in order],
        centroid=centre,
    )


def _language(result: dict[str, Any]) -> str:
    return str((result.get("language") or {}).get("code") or "und")


def group(vectors: np.ndarray, distance_threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """A group label per vector: average linkage on cosine distance, cut at ``distance_threshold``."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    return AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    ).fit_predict(vectors)


def kb_profile(centres: np.ndarray, sections: SectionVectors) -> np.ndarray:
    """Where each centre sits among the KB's articles: its cosine to each article (its nearest section), less their
    mean, unit length.

    Questions about one subject ask different facts ("when does the promo end", "can I stack two codes"), so their
    own vectors are only a little closer than unrelated questions' (e5 puts almost everything 0.7-0.85 apart); the
    articles they are near and far from are much the same, though, in any language. Per article, not per section,
    so that a long article does not count more than a short one.
    """
    ids = np.array(sections.article_ids)
    order = np.argsort(ids, kind="stable")
    starts = np.flatnonzero(np.r_[True, ids[order][1:] != ids[order][:-1]])
    scores = np.empty((len(centres), len(starts)), dtype=np.float32)
    for lo in range(0, len(centres), PROFILE_ROWS):  # a 100k-section KB: 100 MB per block, not per question set
        block = centres[lo : lo + PROFILE_ROWS] @ sections.vectors.T
        scores[lo : lo + PROFILE_ROWS] = np.maximum.reduceat(block[:, order], starts, axis=1)
    scores -= scores.mean(axis=1, keepdims=True)
    return scores / np.maximum(np.linalg.norm(scores, axis=1, keepdims=True), 1e-12)


def merge(
    centres: np.ndarray, sections: SectionVectors | None, merge_distance: float = MERGE_DISTANCE,
    subject_distance: float = SUBJECT_DISTANCE, subject_centroid_distance: float = SUBJECT_CENTROID_DISTANCE,
) -> np.ndarray:
    """A gap label per question group (average linkage): what one article would answer.

    Two groups are close when their centroids are within ``merge_distance`` (one question asked alike) or, with a
    KB of ``PROFILE_ARTICLES`` or more, when their centroids are within ``subject_centroid_distance`` and their KB
    profiles within ``subject_distance`` too (the larger of the two scaled distances counts): the profile brings a
    subject's different questions together, the centroid keeps apart subjects that merely sit near the same
    articles.
    """
    if len(centres) < 2:
        return np.zeros(len(centres), dtype=int)
    if sections is None or len(set(sections.article_ids)) < PROFILE_ARTICLES:
        return group(centres, merge_distance)
    distance = merge_distances(centres, sections, merge_distance, subject_distance, subject_centroid_distance)
    return AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0
    ).fit_predict(distance)


def merge_distances(
    centres: np.ndarray, sections: SectionVectors, merge_distance: float = MERGE_DISTANCE,
    subject_distance: float = SUBJECT_DISTANCE, subject_centroid_distance: float = SUBJECT_CENTROID_DISTANCE,
) -> np.ndarray:
    """The scaled distances ``merge`` links question groups by, with the KB's profiles: under 1 is one subject."""
    profiles = kb_profile(centres, sections)
    apart = 1.0 - centres @ centres.T
    distance = np.maximum(apart / subject_centroid_distance, (1.0 - profiles @ profiles.T) / subject_distance)
    distance = np.minimum(distance, apart / merge_distance)
    np.fill_diagonal(distance, 0.0)
    return np.maximum(distance, 0.0)


def find_gaps(
    tickets: list[LoggedTicket],
    encode: Callable[[list[str]], np.ndarray],
    threshold: float,
    min_tickets: int = MIN_TICKETS,
    distance_threshold: float = DISTANCE_THRESHOLD,
    kb: str | None = None,
    since: str | None = None,
    max_tickets: int = MAX_TICKETS,
    sections: SectionVectors | None = None,
    merge_distance: float = MERGE_DISTANCE,
) -> GapReport:
    """Cluster the unanswered ones among ``tickets`` (oldest first) into questions, then questions into gaps;
    ranked by volume × trend up to the latest ticket's week. ``sections`` (the KB's) names each one's nearest
    article and lets questions about one subject merge (``merge``).

    A gap is reported when one of its questions was asked by ``min_tickets`` or more: a subject made only of
    one-off questions is noise, however many of them the merge brought together.

    The most recent answered tickets (as many as ``max_tickets``) are encoded too. Each question is looked at
    before merging: one that the KB answers for more than ``ANSWERED_ELSEWHERE`` of those asking it (within
    ``ANSWERED_RADIUS``) merges only with others like it, into ``answered_elsewhere``, so an existing article's
    missed phrasings neither hide a missing article nor pass for one. A merged gap is looked at again: where the KB
    answers more than that share of the tickets near any of its questions, it is listed there too.
    """
    all_open = unanswered(tickets, threshold, kb)
    open_ = all_open[-max_tickets:]
    open_ids = {t.id for t in all_open}
    answered_ = [t for t in tickets if (kb is None or t.result.get("kb") == kb) and t.id not in open_ids][-max_tickets:]
    gaps: list[Gap] = []
    elsewhere: list[Gap] = []
    if open_:
        texts = [ticket_text(t) for t in open_]
        vectors = np.asarray(encode([encoder_text(t) for t in texts + [ticket_text(a) for a in answered_]]), dtype=np.float32)
        answered = np.arange(len(vectors)) >= len(open_)
        labels = group(vectors[: len(open_)], distance_threshold)
        questions = [[int(i) for i in np.flatnonzero(labels == label)] for label in np.unique(labels)]
        centres = np.stack([_unit(vectors[q].mean(axis=0)) for q in questions])
        near = vectors @ centres.T >= 1.0 - ANSWERED_RADIUS
        share = np.array([float(answered[near[:, j]].mean()) if near[:, j].any() else 0.0 for j in range(len(questions))])
        words = [_words(text, _language(t.result)) for text, t in zip(texts, open_, strict=True)]
        until = max(t.received_at for t in tickets)
        for listed_apart in (False, True):
            kept = np.flatnonzero((share > ANSWERED_ELSEWHERE) == listed_apart)
            merged = merge(centres[kept], sections, merge_distance)
            for label in np.unique(merged):
                parts = [questions[int(kept[i])] for i in np.flatnonzero(merged == label)]
                if max(map(len, parts)) >= min_tickets:
                    gap = _describe(parts, open_, vectors, words, sections, until, vectors, answered)
                    (elsewhere if listed_apart or gap.answered_nearby > ANSWERED_ELSEWHERE else gaps).append(gap)
    for found in (gaps, elsewhere):
        found.sort(key=lambda g: (-g.score, -g.tickets, g.suggested_title))
    return GapReport(kb, since, len(tickets), len(all_open), len(open_), threshold, gaps, elsewhere)


def summary(report: GapReport, top: int = 10) -> dict[str, Any]:
    """The masked report's headline for the evaluation report: counts and the ``top`` gaps, without ticket ids."""
    fields = ("tickets", "score", "suggested_title", "languages", "keywords", "nearest_article", "nearest_similarity")
    return {
        "tickets_read": report.tickets_read,
        "unanswered": report.unanswered,
        "threshold": report.threshold,
        "gaps": [{f: getattr(g, f) for f in fields} for g in report.gaps[:top]],
        "gaps_total": len(report.gaps),
        "answered_elsewhere": len(report.answered_elsewhere),
    }


def render_html(report: GapReport) -> str:
    """The report as one self-contained HTML page for KB writers."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("engine.report", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("gaps.html").render(report=report)


def write(report: GapReport, path: Path, keep_last_digits: int = 4) -> None:
    """JSON for ``.json``, HTML otherwise; owner-only, written whole or not at all.

    The ticket log is masked when written, but a log written before masking existed is not: titles and
    examples are masked again here, so no report shows personal data in clear.
    """
    masked = mask_report(report, keep_last_digits)
    if path.suffix.lower() == ".json":
        write_private_text(path, json.dumps(masked.to_json(), ensure_ascii=False, indent=2))
    else:
        write_private_text(path, render_html(masked))


def mask_report(report: GapReport, keep_last_digits: int) -> GapReport:
    """The report with every suggested title, outline point and example passed through the PII masking."""

    def mask(gap: Gap) -> Gap:
        return replace(
            gap,
            suggested_title=redact_text(gap.suggested_title, keep_last_digits),
            outline=[redact_text(point, keep_last_digits) for point in gap.outline],
            examples=[redact_text(e, keep_last_digits) for e in gap.examples],
            keywords=[k for k in gap.keywords if not find_pii(k)],
        )

    return replace(report, gaps=[mask(g) for g in report.gaps], answered_elsewhere=[mask(g) for g in report.answered_elsewhere])
