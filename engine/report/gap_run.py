"""One gap report end to end, as ``sift gaps`` and ``GET /v1/reports/gaps`` make it.

Reads the ticket log (or tickets imported from a file), the KB's current index and the feedback, then
clusters the gaps, follows up on the previous report's clusters, checks the KB's hygiene, and keeps this
report's centroids for the next follow-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from engine.report import gap_followup
from engine.report.gaps import (
    DISTANCE_THRESHOLD,
    MAX_TICKETS,
    MIN_TICKETS,
    GapReport,
    LoggedTicket,
    SectionVectors,
    find_gaps,
)
from engine.report.kb_hygiene import hygiene
from engine.retrieve.index import KBIndex
from engine.settings import Settings
from engine.store import FeedbackStore, TicketStore


@dataclass(frozen=True)
class GapOptions:
    threshold: float
    """The policy's ``thresholds.answer_confidence``."""
    min_tickets: int = MIN_TICKETS
    distance: float = DISTANCE_THRESHOLD
    limit: int = MAX_TICKETS
    since: str | None = None
    keep_state: bool = True
    """Save this report's centroids for the next follow-up; off for a report over imported tickets."""


def suggested_counts(tickets: list[LoggedTicket], kb: str) -> Counter[str]:
    """How often each article was a ticket's top suggestion."""
    return Counter(
        t.result["articles"][0]["id"] for t in tickets if t.result.get("kb") == kb and t.result.get("articles")
    )


def build_report(
    tickets: list[LoggedTicket],
    kb: str,
    index: KBIndex,
    encode_queries: Callable[[list[str]], np.ndarray],
    encode_passages: Callable[[list[str]], np.ndarray],
    ratings: list[tuple[str, bool]],
    options: GapOptions,
    data_dir: Path,
    today: date | None = None,
) -> GapReport:
    """Gaps, follow-ups and hygiene for ``kb``; ``ratings`` are feedback's (article, helped) pairs."""
    # The whole KB, read once from the build's store: the checks below visit every section several times.
    chunks = list(index.chunks)
    articles = {a.id: a for a in index.articles.values()}
    rows = list(range(len(chunks)))
    section_vectors = index.vectors(rows) if rows else np.zeros((0, 1), dtype=np.float32)
    sections = SectionVectors([c.article_id for c in chunks], section_vectors)
    report = find_gaps(
        tickets, encode_queries, options.threshold, options.min_tickets, options.distance,
        kb=kb, since=options.since, max_tickets=options.limit, sections=sections,
    )
    dates = {a.id: a.updated for a in articles.values()}
    state = gap_followup.state_path(data_dir, kb)
    previous = gap_followup.load(state)
    followups = (
        gap_followup.follow_up(
            previous, [t for t in tickets if t.result.get("kb") == kb], encode_queries, options.threshold,
            sections, dates, options.distance,
        )
        if previous is not None else []
    )
    checks = hygiene(
        articles, chunks, section_vectors, encode_queries, encode_passages,
        suggested_counts(tickets, kb), ratings, today or datetime.now(UTC).date(),
    )
    report = replace(report, followups=followups, hygiene=checks)
    if options.keep_state:
        gap_followup.save(state, report, dates)
    return report


def logged_tickets(settings: Settings, since: str | None) -> list[LoggedTicket]:
    """The service's ticket log, oldest first."""
    store = TicketStore(settings.database)
    try:
        return [LoggedTicket(*row) for row in store.processed(since)]
    finally:
        store.close()


def article_ratings(settings: Settings) -> list[tuple[str, bool]]:
    """Feedback's (article, helped) pairs, for the stale check."""
    feedback = FeedbackStore(settings.database)
    try:
        rated = [r.feedback for r in feedback.records() if r.feedback.article_id is not None]
        return [(f.article_id, bool(f.article_helped)) for f in rated if f.article_id is not None]
    finally:
        feedback.close()
