"""The ticket log on both backends: accept, complete, fail, read back, count."""

from __future__ import annotations

from engine.store import TicketStore
from engine.store.db import Location
from tests.store.conftest import execute


def test_accept_then_complete_round_trips(location: Location) -> None:
    store = TicketStore(location)
    ids = store.accept([{"text": "a", "channel": "email"}, {"text": "b"}])
    assert store.count("accepted") == 2
    store.complete([(ids[0], {"route": {"queue": "orders"}, "handoff": {"required": True}})])
    first = store.get(ids[0])
    assert first is not None and first["status"] == "processed" and first["result"]["route"]["queue"] == "orders"
    assert first["channel"] == "email" and first["received_at"].endswith("+00:00")
    store.fail([ids[1]], "boom")
    second = store.get(ids[1])
    assert second is not None and second["status"] == "failed" and second["error"] == "boom"
    assert store.get("missing") is None
    assert (store.count(), store.count("processed"), store.count("failed"), store.count("accepted")) == (2, 1, 1, 0)


def test_an_accepted_ticket_is_committed_when_accept_returns(location: Location) -> None:
    """What lets the API answer only after the ticket is safe: another connection already sees it."""
    store = TicketStore(location)
    [ticket_id] = store.accept([{"text": "where is my parcel"}], ["k-ana"])
    assert execute(location, "SELECT status, customer_key FROM tickets WHERE id = :id", id=ticket_id) == [
        ("accepted", "k-ana")
    ]
    store.complete([(ticket_id, {"route": {"queue": "orders"}, "handoff": {"required": False}})])
    assert execute(location, "SELECT status, queue, handoff FROM tickets") == [("processed", "orders", 0)]


def test_processed_lists_results_since_a_date_in_order(location: Location) -> None:
    store = TicketStore(location)
    old, new, pending = store.accept([{"text": "old"}, {"text": "new"}, {"text": "pending"}])
    store.complete([(old, {"topic": "a"}), (new, {"topic": "b"})])
    execute(location, "UPDATE tickets SET received_at = '2020-01-01T00:00:00.000+00:00' WHERE id = :id", id=old)
    assert [(row[0], row[2]["text"], row[3]) for row in store.processed()] == [
        (old, "old", {"topic": "a"}), (new, "new", {"topic": "b"})
    ]
    assert [row[0] for row in store.processed("2021-01-01")] == [new]
    assert pending not in [row[0] for row in store.processed()]


def test_data_survives_reopening(location: Location) -> None:
    first = TicketStore(location)
    ids = first.accept([{"text": "kept", "subject": "Grüße ✓"}])
    first.close()
    reopened = TicketStore(location).get(ids[0])
    assert reopened is not None and reopened["payload"] == {"text": "kept", "subject": "Grüße ✓"}


def test_earlier_contacts_are_the_customers_processed_tickets_since_a_time(location: Location) -> None:
    store = TicketStore(location)
    ids = store.accept([{"text": "a"}, {"text": "b"}, {"text": "c"}, {"text": "d"}], ["k1", "k1", "k2", None])
    store.complete([(i, {"topic": {"label": "billing"}, "route": {"queue": "billing"}}) for i in ids[:3]])
    store.complete([(ids[3], {"topic": {"label": "billing"}})])
    found = store.earlier_contacts(["k1", "k2", "k3"], since="2000-01-01")
    assert sorted(c.ticket_id for c in found["k1"]) == sorted(ids[:2])
    assert [c.topic for c in found["k2"]] == ["billing"] and "k3" not in found
    store.accept([{"text": "e"}], ["k2"])  # accepted, not processed: not yet a contact
    assert len(store.earlier_contacts(["k2"], since="2000-01-01")["k2"]) == 1
    assert store.earlier_contacts(["k1"], since="2999-01-01") == {}
    assert store.earlier_contacts([], since="2000-01-01") == {}
