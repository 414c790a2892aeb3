"""The feedback table on both backends: corrections are checked against the ticket log, kept in order, and
survive reopening."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.store.db import Location
from tests.store.conftest import execute

RESULT = {
    "topic": {"label": "delivery"},
    "urgency": {"label": "normal"},
    "handoff": {"required": False},
    "articles": [{"id": "delivery-where-is-my-order"}, {"id": "returns-how-to-return"}],
    "route": {"queue": "orders"},
}


def processed_ticket(location: Location, text: str = "Where is my parcel?", subject: str | None = "Late order") -> str:
    tickets = TicketStore(location)
    [ticket_id] = tickets.accept([{"text": text, "subject": subject}])
    tickets.complete([(ticket_id, RESULT)])
    tickets.close()
    return ticket_id


def test_record_round_trips_with_ticket_text_and_prediction(location: Location) -> None:
    ticket_id = processed_ticket(location)
    store = FeedbackStore(location)
    stored = store.record(
        Feedback(
            ticket_id=ticket_id, agent_id=" agent-7 ", topic="billing", urgency="high", handoff=True,
            article_id="delivery-where-is-my-order", article_helped=False, draft_helped=True, comment="double charge",
        )
    )
    assert len(stored.id) == 32 and stored.created_at.endswith("+00:00")
    again = store.get(stored.id)
    assert again is not None
    assert again.feedback == Feedback(
        ticket_id=ticket_id, agent_id="agent-7", topic="billing", urgency="high", handoff=True,
        article_id="delivery-where-is-my-order", article_helped=False, draft_helped=True, comment="double charge",
    )
    assert (again.text, again.subject) == ("Where is my parcel?", "Late order")
    assert again.predicted["topic"] == "delivery" and again.predicted["handoff"] is False
    row = again.to_json()
    assert row["topic"] == "billing" and row["predicted"]["urgency"] == "normal" and row["text"] == again.text
    assert store.get("missing") is None


def test_unknown_ticket_is_refused_naming_ticket_id(location: Location) -> None:
    store = FeedbackStore(location)
    with pytest.raises(InvalidInput) as caught:
        store.record(Feedback(ticket_id="no-such-ticket", topic="billing"))
    assert caught.value.field == "ticket_id"
    assert store.count() == 0


def test_article_must_be_one_the_ticket_was_shown(location: Location) -> None:
    ticket_id = processed_ticket(location)
    with pytest.raises(InvalidInput) as caught:
        FeedbackStore(location).record(Feedback(ticket_id=ticket_id, article_id="made-up", article_helped=True))
    assert caught.value.field == "article_id"
    assert "delivery-where-is-my-order" in caught.value.message


def test_feedback_on_an_unprocessed_ticket_is_accepted(location: Location) -> None:
    """A ticket that failed in the pipeline still got handled by a person, whose labels count."""
    tickets = TicketStore(location)
    [ticket_id] = tickets.accept([{"text": "Hub broken"}])
    tickets.fail([ticket_id], "RuntimeError: boom")
    feedback = Feedback(ticket_id=ticket_id, topic="technical", article_id="any-article", article_helped=False)
    record = FeedbackStore(location).record(feedback)
    assert record.predicted["topic"] is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "body"),
        ({"comment": "only a comment"}, "body"),
        ({"agent_id": "a1"}, "body"),
        ({"topic": "   "}, "topic"),
        ({"urgency": "critical"}, "urgency"),
        ({"article_id": "delivery-where-is-my-order"}, "article_helped"),
        ({"article_helped": True}, "article_id"),
        ({"agent_id": " ", "topic": "billing"}, "agent_id"),
    ],
)
def test_empty_or_inconsistent_feedback_is_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Feedback(ticket_id="t1", **kwargs)
    assert caught.value.field == field


def test_blank_ticket_id_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Feedback(ticket_id="  ", topic="billing")
    assert caught.value.field == "ticket_id"


def test_records_are_oldest_first_and_survive_reopening(location: Location) -> None:
    first, second = processed_ticket(location, "one"), processed_ticket(location, "two")
    store = FeedbackStore(location)
    a = store.record(Feedback(ticket_id=first, topic="billing"))
    b = store.record(Feedback(ticket_id=second, draft_helped=False))
    c = store.record(Feedback(ticket_id=first, topic="returns"))
    store.close()
    # All in one millisecond: the order given still holds (SQLite had its rowid; PostgreSQL has none).
    execute(location, "UPDATE feedback SET created_at = '2026-01-01T00:00:00.000+00:00'")
    reopened = FeedbackStore(location)
    assert [r.id for r in reopened.records()] == [a.id, b.id, c.id]
    assert [r.feedback.topic for r in reopened.for_ticket(first)] == ["billing", "returns"]
    assert reopened.count() == 3


def test_shares_the_ticket_log_database_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "sift.db"
    processed_ticket(db)
    FeedbackStore(db).close()
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"tickets", "feedback"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_fresh_database_exports_nothing(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "new" / "sift.db")
    assert store.records() == [] and store.count() == 0


def test_pages_filter_by_ticket_and_time_newest_first(location: Location) -> None:
    first, second = processed_ticket(location), processed_ticket(location, "Refund please", None)
    store = FeedbackStore(location)
    ids = [store.record(Feedback(ticket_id=t, urgency=u)).id for t, u in
           ((first, "low"), (second, "high"), (first, "urgent"))]
    execute(location, "UPDATE feedback SET created_at = '2020-01-01T00:00:00.000+00:00' WHERE id = :id", id=ids[0])
    everything = store.page(limit=2)
    assert [r["id"] for r in everything.rows] == [ids[2], ids[1]] and everything.total == 3
    assert [r["id"] for r in store.page(limit=2, offset=2).rows] == [ids[0]]
    mine = store.page(ticket_id=first)
    assert [r["id"] for r in mine.rows] == [ids[2], ids[0]] and mine.total == 2
    assert mine.rows[0]["urgency"] == "urgent" and mine.rows[0]["handoff"] is None
    # A zone-less time is UTC; one with a zone is converted before it is compared with the stored text.
    recent = store.page(since=datetime(2021, 1, 1))
    assert {r["id"] for r in recent.rows} == {ids[1], ids[2]}
    assert store.page(since=datetime(2020, 1, 1, 1, tzinfo=timezone(timedelta(hours=2)))).total == 3
    with pytest.raises(InvalidInput) as caught:
        store.page(since=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert caught.value.field == "since"


def test_delete_removes_one_row_and_keeps_the_ticket(location: Location) -> None:
    ticket_id = processed_ticket(location)
    store = FeedbackStore(location)
    gone, kept = (store.record(Feedback(ticket_id=ticket_id, urgency=u)).id for u in ("low", "high"))
    assert store.delete(gone) and not store.delete(gone)
    assert [r.id for r in store.for_ticket(ticket_id)] == [kept]
    assert TicketStore(location).get(ticket_id) is not None


def test_a_row_that_no_longer_validates_is_named_not_fatal(location: Location) -> None:
    ticket_id = processed_ticket(location)
    store = FeedbackStore(location)
    good = store.record(Feedback(ticket_id=ticket_id, urgency="low")).id
    bad = store.record(Feedback(ticket_id=ticket_id, topic="billing")).id
    execute(location, "UPDATE feedback SET topic = '' WHERE id = :id", id=bad)  # written by hand
    records, unreadable = store.readable()
    assert [r.id for r in records] == [good]
    assert len(unreadable) == 1 and unreadable[0].startswith(f"feedback {bad} on ticket {ticket_id}: topic")
    assert [r.id for r in store.records()] == [good]
    assert {r["id"] for r in store.page().rows} == {good, bad}  # listed, so it can be found and deleted
