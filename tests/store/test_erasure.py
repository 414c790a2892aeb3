"""Retention and erasure on both backends; on SQLite a purged or forgotten ticket's text is gone from the
database file and its WAL too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.store import Feedback, FeedbackStore, TicketStore
from engine.store.db import Location
from engine.store.erasure import forget_customer, forget_tickets, purge
from tests.store.conftest import execute

RESULT = {"route": {"queue": "orders"}, "handoff": {"required": False}, "articles": []}


def _left_behind(location: Location, marker: str) -> bool:
    """Whether ``marker`` is still readable: in any stored row, or (SQLite) anywhere in the file or its WAL."""
    rows = execute(location, "SELECT t.payload, f.comment FROM tickets t LEFT JOIN feedback f ON f.ticket_id = t.id")
    if any(marker in (value or "") for row in rows for value in row):
        return True
    if isinstance(location, Path):
        files = (location, location.with_name(location.name + "-wal"))
        return any(marker.encode() in p.read_bytes() for p in files if p.exists())
    return False


def _ticket(location: Location, text: str, key: str | None = None) -> str:
    tickets = TicketStore(location)
    [ticket_id] = tickets.accept([{"text": text}], [key])
    tickets.complete([(ticket_id, RESULT)])
    FeedbackStore(location).record(Feedback(ticket_id=ticket_id, agent_id="a1", topic="delivery", comment=f"re {text}"))
    return ticket_id


def test_forget_customer_erases_their_tickets_and_feedback(location: Location) -> None:
    _ticket(location, "Zanzibar-marker one", "k-ana")
    _ticket(location, "Zanzibar-marker two", "k-ana")
    kept = _ticket(location, "Someone else entirely", "k-ivan")
    assert _left_behind(location, "Zanzibar-marker")
    erased = forget_customer(location, "k-ana")
    assert (erased.tickets, erased.feedback) == (2, 2)
    assert not _left_behind(location, "Zanzibar-marker")  # SQLite: secure_delete + a truncated WAL
    store = TicketStore(location)
    assert store.count() == 1 and store.get(kept) is not None
    assert [r.feedback.ticket_id for r in FeedbackStore(location).records()] == [kept]


def test_forget_tickets_by_id(location: Location) -> None:
    gone, kept = _ticket(location, "Quokka-marker"), _ticket(location, "stays")
    assert forget_tickets(location, [gone, "unknown"]).tickets == 1
    assert not _left_behind(location, "Quokka-marker")
    assert TicketStore(location).get(kept) is not None


def test_purge_erases_only_tickets_older_than_the_retention(location: Location) -> None:
    old, new = _ticket(location, "Old-marker"), _ticket(location, "recent")
    ancient = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="milliseconds")
    execute(location, "UPDATE tickets SET received_at = :at WHERE id = :id", at=ancient, id=old)
    erased = purge(location, 90)
    assert (erased.tickets, erased.feedback) == (1, 1)
    store = TicketStore(location)
    assert store.get(old) is None and store.get(new) is not None
    assert not _left_behind(location, "Old-marker")
