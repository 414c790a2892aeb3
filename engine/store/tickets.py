"""The ticket log: every accepted ticket is written before it is processed.

If the process dies mid-pipeline the ticket is still there with status
``accepted``, so nothing a customer sent is lost, and a restarted process (or
another replica) finishes it (``claims.py``, ``engine/recovery.py``); the result
is written before the response goes out. Each write commits before its method returns, on SQLite
(WAL: readers work while one writer appends) and on PostgreSQL alike. What is
stored is already masked (``engine/privacy/redact.py``); the customer id only
as a keyed hash, indexed, so `sift forget` finds a customer's rows.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, insert, select, update

from engine.errors import InvalidInput
from engine.privacy.pii import redact
from engine.stage import EarlierContact
from engine.store.claims import TicketClaims, new_owner
from engine.store.db import Location, open_database, utc_now
from engine.store.schema import tickets
from engine.types import URGENCY_LEVELS

LABEL_COLUMNS = ("topic", "urgency", "language", "sentiment", "risks")
# What GET /v1/tickets and the console sort by; "-name" is descending. Urgency sorts by level, not by name.
SORT_KEYS = ("received_at", "urgency", "queue", "topic", "language", "sentiment", "handoff", "status")


def result_columns(result: dict[str, Any]) -> dict[str, Any]:
    """The labels of a stored result the console filters by, as the ticket log's columns hold them.

    ``risks`` is space-separated and space-padded (" fraud threat ") so that ``LIKE '% fraud %'`` finds a kind
    on SQLite and PostgreSQL alike (migration 0005 fills old rows with a frozen copy of this function).
    """

    def label(name: str) -> Any:
        value = result.get(name)
        return value.get("label") if isinstance(value, dict) else None

    language = result.get("language")
    kinds = sorted({r.get("kind") for r in result.get("risk") or [] if isinstance(r, dict) and r.get("kind")})
    return {
        "topic": label("topic"),
        "urgency": label("urgency"),
        "sentiment": label("sentiment"),
        "language": language.get("code") if isinstance(language, dict) else None,
        "risks": f" {' '.join(kinds)} " if kinds else None,
    }


@dataclass(frozen=True)
class TicketFilter:
    """What a ticket listing narrows to; ``None`` leaves a field open. ``risk`` is a risk kind, ``any`` or ``none``."""

    queue: str | None = None
    topic: str | None = None
    urgency: str | None = None
    language: str | None = None
    sentiment: str | None = None
    risk: str | None = None
    handoff: bool | None = None
    status: str | None = None


@dataclass(frozen=True)
class TicketPage:
    """One page of logged tickets in the asked order, and how many match in all."""

    rows: list[dict[str, Any]]
    total: int


class TicketStore:
    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file (``Settings.database_path``) or a PostgreSQL URL (``Settings.database``)."""
        self._db = open_database(location)
        self.claims = TicketClaims(self._db)
        self.owner = new_owner()

    def accept(self, payloads: list[dict[str, Any]], customer_keys: list[str | None] | None = None) -> list[str]:
        """Persist tickets as received (already masked) and return their new ids, all in one transaction.

        Each is claimed by this store's owner (no external id: ``claims.admit`` stores those), so recovery
        leaves it alone while this process lives.
        """
        ids = [uuid.uuid4().hex for _ in payloads]
        keys = customer_keys or [None] * len(payloads)
        rows = self.claims.rows(ids, payloads, keys, [None] * len(payloads), self.owner, utc_now())
        if rows:
            with self._db.write() as db:
                db.execute(insert(tickets), rows)
        return ids

    def complete(self, results: list[tuple[str, dict[str, Any]]]) -> int:
        """Store results over tickets still ``accepted``; how many were written.

        A processed ticket's result never changes: a late second finisher (a claim taken over from a process
        that was only frozen) writes nothing, and its caller reads the stored result instead.
        """
        now = utc_now()
        rows = [
            {
                "tid": tid,
                "new_result": json.dumps(r, ensure_ascii=False),
                "new_queue": r.get("route", {}).get("queue"),
                "new_handoff": int(bool(r.get("handoff", {}).get("required"))),
                "now": now,
                **{f"new_{k}": v for k, v in result_columns(r).items()},
            }
            for tid, r in results
        ]
        statement = (
            update(tickets)
            .where(tickets.c.id == bindparam("tid"), tickets.c.status == "accepted")
            .values(
                status="processed", result=bindparam("new_result"), queue=bindparam("new_queue"),
                handoff=bindparam("new_handoff"), processed_at=bindparam("now"),
                **{k: bindparam(f"new_{k}") for k in LABEL_COLUMNS},
            )
        )
        if not rows:
            return 0
        with self._db.write() as db:
            return int(db.execute(statement, rows).rowcount)

    def fail(self, ids: list[str], error: str) -> None:
        """Mark tickets still ``accepted`` failed; the error text is masked (an exception may quote the ticket)."""
        statement = (
            update(tickets)
            .where(tickets.c.id.in_(ids), tickets.c.status == "accepted")
            .values(status="failed", error=redact(error), processed_at=utc_now())
        )
        with self._db.write() as db:
            db.execute(statement)

    def write_problem(self) -> str | None:
        """``None`` when this store can write now, else why not (``/readyz``)."""
        return self._db.write_problem()

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        c = tickets.c
        with self._db.read() as db:
            row = db.execute(
                select(c.id, c.received_at, c.channel, c.payload, c.status, c.result, c.error, c.external_id,
                       c.processed_at, c.attempts).where(c.id == ticket_id)
            ).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "received_at": row.received_at,
            "channel": row.channel,
            "payload": json.loads(row.payload),
            "status": row.status,
            "result": json.loads(row.result) if row.result else None,
            "error": row.error,
            "external_id": row.external_id,
            "processed_at": row.processed_at,
            "attempts": row.attempts,
        }

    def page(self, where: TicketFilter, sort: str = "-received_at", limit: int = 50, offset: int = 0) -> TicketPage:
        """Logged tickets matching ``where`` with their payloads and results, sorted by ``sort`` (one of
        ``SORT_KEYS``, ``-`` first for descending; newest first within equal keys)."""
        c = tickets.c
        conditions = _conditions(where)
        name = sort.removeprefix("-")
        if name not in SORT_KEYS:
            raise InvalidInput("sort", f"sort by one of {', '.join(SORT_KEYS)} (a leading '-' for descending); got {sort!r}")
        key: Any = (
            case({level: rank for rank, level in enumerate(URGENCY_LEVELS)}, value=c.urgency) if name == "urgency"
            else c[name]
        )
        key = key.desc() if sort.startswith("-") else key.asc()
        query = (
            select(*_LISTED).where(*conditions)
            .order_by(key.nulls_last(), c.received_at.desc(), c.id.desc()).limit(limit).offset(offset)
        )
        with self._db.read() as db:
            rows = db.execute(query).all()
            total = int(db.execute(select(func.count()).select_from(tickets).where(*conditions)).scalar_one())
        return TicketPage([_listed(row) for row in rows], total)

    def listed(self, ticket_id: str) -> dict[str, Any] | None:
        """One ticket as ``page`` lists it, or None."""
        with self._db.read() as db:
            row = db.execute(select(*_LISTED).where(tickets.c.id == ticket_id)).first()
        return None if row is None else _listed(row)

    def values(self, column: str, limit: int = 200) -> list[str]:
        """The distinct values a label column holds (queues, languages seen), for a filter's choices."""
        if column not in ("queue", *LABEL_COLUMNS[:-1]):
            raise ValueError(f"not a label column: {column}")
        c = tickets.c[column]
        with self._db.read() as db:
            return [v for (v,) in db.execute(select(c).where(c.is_not(None)).distinct().order_by(c).limit(limit))]

    def processed(self, since: str | None = None) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(id, received_at, payload, result) of every processed ticket received at or after ``since`` (ISO)."""
        c = tickets.c
        query = select(c.id, c.received_at, c.payload, c.result).where(c.status == "processed")
        if since is not None:
            query = query.where(c.received_at >= since)
        with self._db.read() as db:
            rows = db.execute(query.order_by(c.received_at)).all()
        return [(r.id, r.received_at, json.loads(r.payload), json.loads(r.result)) for r in rows]

    def earlier_contacts(self, customer_keys: list[str], since: str) -> dict[str, list[EarlierContact]]:
        """Each customer's processed tickets received at or after ``since`` (ISO), with the topic triage gave them.

        Read before the new tickets are accepted, so a ticket never counts as its own earlier contact.
        """
        wanted = sorted(set(customer_keys))
        if not wanted:
            return {}
        c = tickets.c
        query = (
            select(c.id, c.received_at, c.customer_key, c.result)
            .where(c.status == "processed", c.customer_key.in_(wanted), c.received_at >= since)
            .order_by(c.received_at)
        )
        with self._db.read() as db:
            rows = db.execute(query).all()
        found: dict[str, list[EarlierContact]] = {}
        for row in rows:
            topic = (json.loads(row.result).get("topic") or {}).get("label") if row.result else None
            found.setdefault(row.customer_key, []).append(EarlierContact(row.id, row.received_at, topic))
        return found

    def count(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(tickets)
        if status is not None:
            query = query.where(tickets.c.status == status)
        with self._db.read() as db:
            return int(db.execute(query).scalar_one())

    def close(self) -> None:
        self._db.close()


_LISTED = tuple(
    tickets.c[name] for name in (
        "id", "received_at", "processed_at", "channel", "status", "queue", "handoff", *LABEL_COLUMNS, "payload",
        "result", "error", "external_id", "attempts",
    )
)


def _conditions(where: TicketFilter) -> list[ColumnElement[bool]]:
    c = tickets.c
    out: list[ColumnElement[bool]] = [
        c[name] == getattr(where, name)
        for name in ("queue", "topic", "urgency", "language", "sentiment", "status")
        if getattr(where, name) is not None
    ]
    if where.handoff is not None:
        out.append(c.handoff == int(where.handoff))
    if where.risk == "any":
        out.append(c.risks.is_not(None))
    elif where.risk == "none":
        out.append(c.risks.is_(None))
    elif where.risk is not None:
        out.append(c.risks.like(f"% {where.risk} %"))
    return out


def _listed(row: Any) -> dict[str, Any]:
    """One listed ticket: its columns, ``risks`` as a list, payload and result parsed."""
    values = dict(row._mapping)  # noqa: SLF001 - SQLAlchemy's public name for a row as a mapping
    values["handoff"] = None if values["handoff"] is None else bool(values["handoff"])
    values["risks"] = (values["risks"] or "").split()
    values["payload"] = json.loads(values["payload"])
    values["result"] = json.loads(values["result"]) if values["result"] else None
    return values
