"""Did the article written for a gap answer it? The follow-up between two gap reports.

Each report keeps its clusters' centroids (unit vectors, no ticket text, no ids) and the KB's article
dates in the data dir, owner-only. The next report matches every kept cluster to the articles added or
re-dated since; where one is near the cluster's centroid, the tickets received since the previous report
that sit as close to that centroid as a cluster's members do are counted, and how many of them the KB now
answers (answer confidence at the policy's threshold or above). A share near 1 says the article worked; a
share near 0 says the tickets still go to a person and the article needs another look.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.normalise import encoder_text
from engine.privacy.owner_only import write_private_text
from engine.report.gaps import DISTANCE_THRESHOLD, GapReport, LoggedTicket, SectionVectors, ticket_text

ARTICLE_MATCH = 0.82
"""Cosine between a kept centroid and a changed article's nearest section above which the article is taken
as written for that gap. e5 puts a question and its answering passage around 0.85 and unrelated ones near
0.75-0.8, so this is a heuristic cut, not a calibrated one."""


@dataclass(frozen=True)
class KeptCluster:
    tickets: int
    centroid: np.ndarray


@dataclass(frozen=True)
class PreviousReport:
    generated_at: str
    articles: dict[str, str | None]
    """Each article id of the KB then, with its ``updated`` date."""
    clusters: list[KeptCluster]


@dataclass(frozen=True)
class FollowUp:
    previous_tickets: int
    article: str
    """The article added or updated since the previous report nearest to the cluster."""
    similarity: float
    tickets_since: int
    """Tickets received since the previous report as close to the cluster's centroid as its members were."""
    answered_since: int
    answered_share: float | None


def state_path(data_dir: Path, kb: str) -> Path:
    return data_dir / "reports" / f"gaps-{kb}.json"


def save(path: Path, report: GapReport, articles: dict[str, str | None], now: datetime | None = None) -> None:
    """Keep what the next report's follow-up needs: centroids and sizes, the KB's article dates, the time."""
    state = {
        "generated_at": (now or datetime.now(UTC)).isoformat(),
        "articles": articles,
        "clusters": [{"tickets": g.tickets, "centroid": [round(float(x), 6) for x in g.centroid]} for g in report.gaps],
    }
    write_private_text(path, json.dumps(state))


def load(path: Path) -> PreviousReport | None:
    if not path.is_file():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    clusters = [KeptCluster(c["tickets"], np.asarray(c["centroid"], dtype=np.float32)) for c in state["clusters"]]
    return PreviousReport(state["generated_at"], state["articles"], clusters)


def changed_articles(previous: PreviousReport, articles: dict[str, str | None]) -> set[str]:
    """Articles new since the previous report, or whose ``updated`` date changed."""
    return {a for a, updated in articles.items() if a not in previous.articles or previous.articles[a] != updated}


def follow_up(
    previous: PreviousReport,
    tickets: list[LoggedTicket],
    encode: Callable[[list[str]], np.ndarray],
    threshold: float,
    sections: SectionVectors,
    articles: dict[str, str | None],
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> list[FollowUp]:
    """One entry per kept cluster that a changed article now covers, with how the tickets since then fared."""
    changed = changed_articles(previous, articles)
    rows = [i for i, a in enumerate(sections.article_ids) if a in changed]
    if not rows or not previous.clusters:
        return []
    mine = SectionVectors([sections.article_ids[i] for i in rows], sections.vectors[rows])
    since = [t for t in tickets if t.received_at >= previous.generated_at]
    vectors = (
        np.asarray(encode([encoder_text(ticket_text(t)) for t in since]), dtype=np.float32) if since else np.zeros((0, 1))
    )
    answered = np.asarray([float(t.result.get("answer_confidence") or 0.0) >= threshold for t in since])
    out = []
    for cluster in previous.clusters:
        article, similarity = mine.nearest(cluster.centroid)
        if article is None or similarity < ARTICLE_MATCH:
            continue
        near = (vectors @ cluster.centroid >= 1.0 - distance_threshold) if since else np.zeros(0, dtype=bool)
        n, hits = int(near.sum()), int((near & answered).sum())
        out.append(FollowUp(cluster.tickets, article, similarity, n, hits, round(hits / n, 4) if n else None))
    return out
