"""KB gaps: what customers keep asking that no article answers, grouped, ranked by volume, with suggested titles.

A ticket counts as unanswered when its top article's answer confidence (the
calibrated probability that it answers, ``engine/retrieve/confidence.py``) stayed
under the policy's ``thresholds.answer_confidence``: the same rule that hands it to a person.
Those tickets are encoded again by the service's encoder (the ticket log keeps
results, not vectors) and grouped by average-linkage clustering on cosine
distance, so a gap asked in Croatian and in German lands in one cluster. Each
cluster's suggested title is its most central ticket's subject or first
sentence; its keywords are the words most particular to it against all the
unanswered tickets (a class-based TF-IDF, as BERTopic names topics).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from engine.normalise import Normaliser, encoder_text
from engine.privacy.owner_only import write_private_text
from engine.privacy.pii import find_pii
from engine.privacy.redact import redact_text
from engine.retrieve.analysis import stop_words
from engine.types import Ticket

DISTANCE_THRESHOLD = 0.12
"""Average cosine distance under which tickets share a gap, chosen on CLINC150's validation queries (150 intents:
best adjusted Rand index of 0.08-0.20, eval/gap_clustering.py). e5 compresses cosines (unrelated texts near 0.8)."""
MAX_TICKETS = 5000
"""Most recent unanswered tickets clustered at once: the distance matrix grows with their square (5,000: 200 MB)."""
TITLE_CHARS = 90
KEYWORDS = 5
EXAMPLES = 3
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
class Gap:
    tickets: int
    suggested_title: str
    keywords: list[str]
    languages: dict[str, int]
    topics: dict[str, int]
    closest_article: str | None
    """The article the KB came closest with (most often on top), a candidate to extend rather than write anew."""
    best_confidence: float
    examples: list[str]
    ticket_ids: list[str] = field(repr=False)


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def unanswered(tickets: Iterable[LoggedTicket], threshold: float, kb: str | None = None) -> list[LoggedTicket]:
    """Tickets whose top article would not be quoted (or that got none)."""
    return [
        t for t in tickets
        if (kb is None or t.result.get("kb") == kb) and float(t.result.get("answer_confidence") or 0.0) < threshold
    ]


def _text(ticket: LoggedTicket) -> str:
    return Normaliser.normalise(Ticket(text=ticket.payload.get("text", ""), subject=ticket.payload.get("subject"))).text


def _title(ticket: LoggedTicket) -> str:
    subject = (ticket.payload.get("subject") or "").strip()
    text = subject or _SENTENCE_END.split(" ".join(_text(ticket).split()), maxsplit=1)[0]
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


def _describe(members: list[int], tickets: list[LoggedTicket], vectors: np.ndarray, words: list[set[str]]) -> Gap:
    """One group of unanswered tickets as the report shows it, its most central ticket first."""
    centre = vectors[members].mean(axis=0)
    order = sorted(members, key=lambda i: -float(vectors[i] @ centre))
    results = [tickets[i].result for i in members]
    tops = [r["articles"][0] for r in results if r.get("articles")]
    closest = Counter(a["id"] for a in tops).most_common(1)
    return Gap(
        tickets=len(members),
        suggested_title=_title(tickets[order[0]]),
        keywords=_keywords(members, words),
        languages=dict(Counter(_language(r) for r in results).most_common()),
        topics=dict(Counter((r.get("topic") or {}).get("label") or "none" for r in results).most_common()),
        closest_article=closest[0][0] if closest else None,
        best_confidence=round(max((float(a.get("answer_confidence", 0.0)) for a in tops), default=0.0), 4),
        examples=[_title(tickets[i]) for i in order[1 : 1 + EXAMPLES]],
        ticket_ids=[tickets[i].id for i in order],
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


def find_gaps(
    tickets: list[LoggedTicket],
    encode: Callable[[list[str]], np.ndarray],
    threshold: float,
    min_tickets: int = 2,
    distance_threshold: float = DISTANCE_THRESHOLD,
    kb: str | None = None,
    since: str | None = None,
    max_tickets: int = MAX_TICKETS,
) -> GapReport:
    """Cluster the unanswered ones among ``tickets`` (oldest first); gaps with at least ``min_tickets``, largest first."""
    all_open = unanswered(tickets, threshold, kb)
    open_ = all_open[-max_tickets:]
    gaps: list[Gap] = []
    if open_:
        texts = [_text(t) for t in open_]
        vectors = encode([encoder_text(t) for t in texts])
        labels = group(vectors, distance_threshold)
        words = [_words(text, _language(t.result)) for text, t in zip(texts, open_, strict=True)]
        for label in np.unique(labels):
            members = [int(i) for i in np.flatnonzero(labels == label)]
            if len(members) >= min_tickets:
                gaps.append(_describe(members, open_, vectors, words))
    gaps.sort(key=lambda g: (-g.tickets, g.suggested_title))
    return GapReport(kb, since, len(tickets), len(all_open), len(open_), threshold, gaps)


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
    """The report with every suggested title and example passed through the PII masking."""
    gaps = [
        replace(
            gap,
            suggested_title=redact_text(gap.suggested_title, keep_last_digits),
            examples=[redact_text(e, keep_last_digits) for e in gap.examples],
            keywords=[k for k in gap.keywords if not find_pii(k)],
        )
        for gap in report.gaps
    ]
    return replace(report, gaps=gaps)
