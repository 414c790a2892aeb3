"""Erasing tickets for good: retention (`sift purge`) and a customer's right to erasure (`sift forget`).

A ticket's feedback goes with it, in one transaction. On SQLite ``secure_delete`` (set on every connection)
overwrites the deleted rows in the database file, and a ``wal_checkpoint(TRUNCATE)`` afterwards empties the
-wal file, so the erased text is not left readable in either; on PostgreSQL a VACUUM follows
(``Database.reclaim``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select

from engine.store.db import Location, open_database
from engine.store.schema import feedback, tickets


@dataclass(frozen=True)
class Erased:
    tickets: int
    feedback: int


def _erase(location: Location, where: ColumnElement[bool]) -> Erased:
    database = open_database(location)
    try:
        with database.write() as db:
            erased_feedback = db.execute(
                delete(feedback).where(feedback.c.ticket_id.in_(select(tickets.c.id).where(where)))
            ).rowcount
            erased_tickets = db.execute(delete(tickets).where(where)).rowcount
        database.reclaim()
    finally:
        database.close()
    return Erased(tickets=erased_tickets, feedback=erased_feedback)


def purge(location: Location, retention_days: int, now: datetime | None = None) -> Erased:
    """Erase every ticket received more than ``retention_days`` days ago, with its result and feedback."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return _erase(location, tickets.c.received_at < cutoff.isoformat(timespec="milliseconds"))


def forget_customer(location: Location, customer_key: str) -> Erased:
    """Erase every ticket of the customer whose keyed hash is ``customer_key`` (``engine/privacy/keys.py``)."""
    return _erase(location, tickets.c.customer_key == customer_key)


def forget_tickets(location: Location, ticket_ids: list[str]) -> Erased:
    """Erase the given tickets, with their results and feedback."""
    return _erase(location, tickets.c.id.in_(ticket_ids))
