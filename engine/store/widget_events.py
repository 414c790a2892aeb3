"""What visitors of the help widget and the help centre did, for deflection figures; nothing that names them.

A row says that suggestions were shown, an article opened, "did this help?" answered or the contact form sent,
in which language and for which article: never the query, the message or an address (the ticket log keeps the
message, masked, when one is sent). ``session`` is a random id the page draws per visit, so "contacted after
searching" can be counted without a cookie or anything that lasts beyond the visit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import func, insert, select

from engine.store.db import Location, open_database, utc_now
from engine.store.schema import widget_events

EventKind = Literal["search", "open", "helped", "not_helped", "contact"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)


@dataclass(frozen=True)
class WidgetEvent:
    kind: EventKind
    session: str
    language: str
    kb: str | None = None
    article_id: str | None = None
    results: int | None = None
    handoff: bool | None = None
    origin: str | None = None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class WidgetEventStore:
    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file or PostgreSQL URL the ticket log uses (``Settings.database``)."""
        self._db = open_database(location)

    def record(self, event: WidgetEvent) -> str:
        """Stores one event; returns its id."""
        event_id = uuid.uuid4().hex
        with self._db.write() as db:
            db.execute(
                insert(widget_events).values(
                    id=event_id, created_at=utc_now(), kind=event.kind, session=event.session,
                    language=event.language, kb=event.kb, article_id=event.article_id, results=event.results,
                    handoff=None if event.handoff is None else int(event.handoff), origin=event.origin,
                )
            )
        return event_id

    def deflection(self, since: str | None = None, kb: str | None = None) -> dict[str, Any]:
        """The deflection figures, overall and per language (the language the visitor searched in).

        ``deflection_rate``: of the visits that searched, the share that sent no contact form; ``helpful_rate``:
        of the "did this help?" answers, the share of yes. Both null when nothing was counted.
        """
        c = widget_events.c
        query = select(c.language, c.kind, c.session, func.count()).group_by(c.language, c.kind, c.session)
        if since:
            query = query.where(c.created_at >= since)
        if kb:
            query = query.where(c.kb == kb)
        with self._db.read() as db:
            rows = db.execute(query).all()
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(EVENT_KINDS, 0))
        kinds_by_visit: dict[tuple[str, str], set[str]] = defaultdict(set)
        for language, kind, session, n in rows:
            counts[language][kind] += n
            kinds_by_visit[(language, session)].add(kind)
        visits: dict[str, dict[str, int]] = defaultdict(lambda: {"searched": 0, "contacted": 0})
        for (language, _), kinds in kinds_by_visit.items():
            if "search" in kinds:
                visits[language]["searched"] += 1
                visits[language]["contacted"] += "contact" in kinds
        per_language = {lang: self._figures(counts[lang], visits[lang]) for lang in sorted(counts)}
        total_counts = {k: sum(counts[lang][k] for lang in counts) for k in EVENT_KINDS}
        total_visits = {k: sum(visits[lang][k] for lang in visits) for k in ("searched", "contacted")}
        return {"since": since, "kb": kb, **self._figures(total_counts, total_visits), "languages": per_language}

    @staticmethod
    def _figures(counts: dict[str, int], visits: dict[str, int]) -> dict[str, Any]:
        searched, contacted = visits["searched"], visits["contacted"]
        return {
            "searches": counts["search"],
            "article_opens": counts["open"],
            "helped_yes": counts["helped"],
            "helped_no": counts["not_helped"],
            "contacts": counts["contact"],
            "visits_searched": searched,
            "contacted_after_search": contacted,
            "deflection_rate": _rate(searched - contacted, searched),
            "helpful_rate": _rate(counts["helped"], counts["helped"] + counts["not_helped"]),
        }

    def count(self) -> int:
        with self._db.read() as db:
            return int(db.execute(select(func.count()).select_from(widget_events)).scalar_one())

    def close(self) -> None:
        self._db.close()
