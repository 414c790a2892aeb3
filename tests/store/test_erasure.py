"""Retention and erasure: a purged or forgotten ticket's text is gone from the database file and its WAL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.store import Feedback, FeedbackStore, TicketStore
from engine.store.erasure import forget_customer, forget_tickets, purge

RESULT = {"route": {"queue": "orders"}, "handoff": {"required": False}, "articles": []}


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _ticket(db: Path, text: str, key: str | None = None) -> str:
    tickets = TicketStore(db)
    [ticket_id] = tickets.accept([{"text": text}], [key])
    tickets.complete([(ticket_id, RESULT)])
    FeedbackStore(db).record(Feedback(ticket_id=ticket_id, agent_id="a1", topic="delivery", comment=f"re {text}"))
    return ticket_id


def test_forget_customer_erases_their_tickets_and_feedback_from_the_file(tmp_path: Path) -> None:
    db = tmp_path / "sift.db"
    _ticket(db, "Zanzibar-marker one", "k-ana")
    _ticket(db, "Zanzibar-marker two", "k-ana")
    kept = _ticket(db, "Someone else entirely", "k-ivan")
    assert b"Zanzibar-marker" in _file_bytes(db)
    erased = forget_customer(db, "k-ana")
    assert (erased.tickets, erased.feedback) == (2, 2)
    assert b"Zanzibar-marker" not in _file_bytes(db)  # secure_delete + a truncated WAL: no copy left behind
    store = TicketStore(db)
    assert store.count() == 1 and store.get(kept) is not None
    assert [r.feedback.ticket_id for r in FeedbackStore(db).records()] == [kept]


def test_forget_tickets_by_id(tmp_path: Path) -> None:
    db = tmp_path / "sift.db"
    gone, kept = _ticket(db, "Quokka-marker"), _ticket(db, "stays")
    assert forget_tickets(db, [gone, "unknown"]).tickets == 1
    assert b"Quokka-marker" not in _file_bytes(db)
    assert TicketStore(db).get(kept) is not None


def test_purge_erases_only_tickets_older_than_the_retention(tmp_path: Path) -> None:
    db = tmp_path / "sift.db"
    old, new = _ticket(db, "Old-marker"), _ticket(db, "recent")
    ancient = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="milliseconds")
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE tickets SET received_at=? WHERE id=?", (ancient, old))
    erased = purge(db, 90)
    assert (erased.tickets, erased.feedback) == (1, 1)
    store = TicketStore(db)
    assert store.get(old) is None and store.get(new) is not None
    assert b"Old-marker" not in _file_bytes(db)
