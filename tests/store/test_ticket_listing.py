"""The ticket log listed as the console and GET /v1/tickets list it: label columns filled on completion,
filters, sorting by urgency level and pagination, alike on SQLite and PostgreSQL; migration 0005 fills old rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.store import TicketStore
from engine.store.db import Location
from engine.store.tickets import TicketFilter
from tests.store.conftest import execute


def _result(topic: str, urgency: str | None, language: str, sentiment: str, risks: list[str], queue: str,
            handoff: bool) -> dict[str, Any]:
    return {
        "topic": {"label": topic, "confidence": 0.9},
        "urgency": {"label": urgency, "confidence": 0.8} if urgency else None,
        "language": {"code": language, "confidence": 0.99},
        "sentiment": {"label": sentiment, "score": 0.0, "confidence": 0.7},
        "risk": [{"kind": k, "confidence": 0.9} for k in risks],
        "route": {"queue": queue},
        "handoff": {"required": handoff},
    }


@pytest.fixture
def store(location: Location) -> TicketStore:
    tickets = TicketStore(location)
    specs = [
        ("billing", "high", "en", "negative", ["fraud"], "billing", True),
        ("billing", "low", "de", "neutral", [], "billing", False),
        ("account", "urgent", "en", "negative", ["threat", "distress"], "support", True),
        ("account", None, "hr", "positive", [], "support", False),
        ("shipping", "normal", "en", "neutral", [], "logistics", False),
    ]
    for i, spec in enumerate(specs):
        [tid] = tickets.accept([{"text": f"ticket {i}"}])
        tickets.complete([(tid, _result(*spec))])
    tickets.accept([{"text": "still waiting"}])
    return tickets


def _texts(store: TicketStore, where: TicketFilter, sort: str = "-received_at") -> list[str]:
    return [row["payload"]["text"] for row in store.page(where, sort, 50, 0).rows]


def test_filters_match_the_stored_labels(store: TicketStore) -> None:
    assert _texts(store, TicketFilter(language="en"), "received_at") == ["ticket 0", "ticket 2", "ticket 4"]
    assert _texts(store, TicketFilter(queue="billing", urgency="low")) == ["ticket 1"]
    assert _texts(store, TicketFilter(risk="threat")) == ["ticket 2"]
    assert _texts(store, TicketFilter(risk="any"), "received_at") == ["ticket 0", "ticket 2"]
    assert len(_texts(store, TicketFilter(risk="none"))) == 4  # the unprocessed ticket has no risk either
    assert _texts(store, TicketFilter(handoff=False, sentiment="positive")) == ["ticket 3"]
    assert _texts(store, TicketFilter(status="accepted")) == ["still waiting"]
    assert _texts(store, TicketFilter(topic="shipping")) == ["ticket 4"]
    row = store.page(TicketFilter(topic="account", urgency="urgent"), "-received_at", 5, 0).rows[0]
    assert row["risks"] == ["distress", "threat"] and row["handoff"] is True and row["result"]["topic"]["label"] == "account"


def test_urgency_sorts_by_level_and_pages_count_all(store: TicketStore) -> None:
    assert _texts(store, TicketFilter(status="processed"), "-urgency") == [
        "ticket 2", "ticket 0", "ticket 4", "ticket 1", "ticket 3"  # urgent, high, normal, low, none last
    ]
    assert _texts(store, TicketFilter(status="processed"), "urgency")[:4] == ["ticket 1", "ticket 4", "ticket 0", "ticket 2"]
    page = store.page(TicketFilter(), "-received_at", 2, 4)
    assert page.total == 6 and len(page.rows) == 2
    assert store.values("queue") == ["billing", "logistics", "support"]
    assert store.listed(page.rows[0]["id"]) == page.rows[0]
    with pytest.raises(InvalidInput) as refused:
        store.page(TicketFilter(), "payload", 5, 0)
    assert refused.value.field == "sort"


def test_migration_0005_fills_the_columns_of_older_rows(location: Location) -> None:
    store = TicketStore(location)
    [tid] = store.accept([{"text": "old"}])
    store.complete([(tid, _result("billing", "high", "de", "negative", ["fraud"], "billing", True))])
    execute(location, "UPDATE tickets SET topic = NULL, urgency = NULL, language = NULL, sentiment = NULL, risks = NULL")
    execute(location, "UPDATE alembic_version SET version_num = '0004'")
    # Back to the schema of 0004: the later revisions' indexes and columns go (0006's claims, 0007's key tenants, 0008's budgets).
    for index in ("tickets_queue", "tickets_urgency", "tickets_language", "tickets_external"):
        execute(location, f"DROP INDEX {index}")
    for column in (
        "topic", "urgency", "language", "sentiment", "risks",
        "source", "external_id", "request_hash", "claimed_by", "claimed_at", "attempts",
    ):
        execute(location, f"ALTER TABLE tickets DROP COLUMN {column}")
    for column in ("draft_action", "draft_edit_distance"):
        execute(location, f"ALTER TABLE feedback DROP COLUMN {column}")
    execute(location, "ALTER TABLE api_keys DROP COLUMN tenant")
    execute(location, "DROP TABLE rate_limits")
    store.close()
    again = TicketStore(location)  # opening migrates to the head, through 0005
    row = again.listed(tid)
    assert row is not None
    assert (row["topic"], row["urgency"], row["language"], row["sentiment"], row["risks"]) == (
        "billing", "high", "de", "negative", ["fraud"]
    )
    assert json.loads(json.dumps(row["result"]))["route"]["queue"] == "billing"
    again.close()
