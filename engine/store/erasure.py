"""Erasing tickets for good: retention (`sift purge`) and a customer's right to erasure (`sift forget`).

A ticket's feedback goes with it, in one transaction. ``secure_delete`` (set on
every connection) overwrites the deleted rows in the database file, and a
``wal_checkpoint(TRUNCATE)`` afterwards empties the -wal file, so the erased
text is not left readable in either.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.store.db import checkpoint, connect, write
from engine.store.feedback import SCHEMA as FEEDBACK_SCHEMA
from engine.store.tickets import SCHEMA as TICKETS_SCHEMA
from engine.store.tickets import migrate


@dataclass(frozen=True)
class Erased:
    tickets: int
    feedback: int


def _erase(path: Path, where: str, args: tuple[str, ...]) -> Erased:
    db = connect(path, TICKETS_SCHEMA + FEEDBACK_SCHEMA)
    lock = threading.Lock()
    try:
        migrate(db)
        with write(db, lock):
            feedback = db.execute(
                f"DELETE FROM feedback WHERE ticket_id IN (SELECT id FROM tickets WHERE {where})", args
            ).rowcount
            tickets = db.execute(f"DELETE FROM tickets WHERE {where}", args).rowcount
        checkpoint(db, lock)
    finally:
        db.close()
    return Erased(tickets=tickets, feedback=feedback)


def purge(path: Path, retention_days: int, now: datetime | None = None) -> Erased:
    """Erase every ticket received more than ``retention_days`` days ago, with its result and feedback."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return _erase(path, "received_at < ?", (cutoff.isoformat(timespec="milliseconds"),))


def forget_customer(path: Path, customer_key: str) -> Erased:
    """Erase every ticket of the customer whose keyed hash is ``customer_key`` (``engine/privacy/keys.py``)."""
    return _erase(path, "customer_key = ?", (customer_key,))


def forget_tickets(path: Path, ticket_ids: list[str]) -> Erased:
    """Erase the given tickets, with their results and feedback."""
    marks = ", ".join("?" * len(ticket_ids))
    return _erase(path, f"id IN ({marks})", tuple(ticket_ids))
