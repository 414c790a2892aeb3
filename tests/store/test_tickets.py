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
