from pathlib import Path

from engine.store import TicketStore


def test_accept_then_complete_round_trips(tmp_path: Path) -> None:
    store = TicketStore(tmp_path / "t.db")
    ids = store.accept([{"text": "a", "channel": "email"}, {"text": "b"}])
    assert store.count("accepted") == 2
    store.complete([(ids[0], {"route": {"queue": "orders"}, "handoff": {"required": True}})])
    first = store.get(ids[0])
    assert first is not None and first["status"] == "processed" and first["result"]["route"]["queue"] == "orders"
    store.fail([ids[1]], "boom")
    second = store.get(ids[1])
    assert second is not None and second["status"] == "failed" and second["error"] == "boom"
    assert store.get("missing") is None


def test_data_survives_reopening(tmp_path: Path) -> None:
    ids = TicketStore(tmp_path / "t.db").accept([{"text": "kept"}])
    reopened = TicketStore(tmp_path / "t.db").get(ids[0])
    assert reopened is not None and reopened["payload"]["text"] == "kept"


def test_earlier_contacts_are_the_customers_processed_tickets_since_a_time(tmp_path: Path) -> None:
    store = TicketStore(tmp_path / "t.db")
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
