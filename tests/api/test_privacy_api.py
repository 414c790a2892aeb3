"""#17 through TestClient: unstorable strings are refused naming the field and never wedge the ticket log;
a ticket log that cannot be written fails readiness; what is stored and answered is masked."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.settings import Settings

pytestmark = pytest.mark.slow

CARD = "4111 1111 1111 1111"


def post_json(client: TestClient, path: str, payload: Any) -> Any:
    """Sent as ASCII JSON with \\u escapes: the way a client sends a lone surrogate (valid JSON, invalid text)."""
    return client.post(path, content=json.dumps(payload).encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": "hello \ud800 order"}, "text"),
        ({"text": "my order", "subject": "late \udc00"}, "subject"),
        ({"text": "my order", "customer_name": "Ana \ud800"}, "customer_name"),
        ({"text": "my order", "customer_id": "c\ud800"}, "customer_id"),
        ({"text": "my order", "locale": "hr\ud800"}, "locale"),
        ({"text": "my order", "kb": "de\ud800"}, "kb"),
        ({"text": "my order", "messages": [{"text": "hi"}, {"text": "x \ud800"}]}, "messages.1.text"),
        ({"text": "my order", "metadata": {"foo": "\ud800"}}, "metadata.foo"),
        ({"text": "my order", "metadata": {"foo": {"deep": ["ok", "\ud800"]}}}, "metadata.foo.deep.1"),
        ({"text": "my order", "metadata": {"bad\ud800key": 1}}, "metadata.bad\\ud800key"),
        ({"text": "a NUL \u0000 in my order"}, "text"),
    ],
)
def test_unstorable_strings_are_refused_naming_the_field(client: TestClient, payload: dict, field: str) -> None:
    before = client.app.state.service.store.count()  # type: ignore[attr-defined]
    r = post_json(client, "/v1/triage", payload)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field and r.json()["error"]["code"] == "invalid_input"
    assert client.app.state.service.store.count() == before  # type: ignore[attr-defined]
    ok = client.post("/v1/triage", json={"text": "Where is my parcel? It has been ten days."})
    assert ok.status_code == 200, ok.text  # and the next customer is served


def test_batch_names_the_ticket_and_stores_none_of_it(client: TestClient) -> None:
    tickets = [{"text": "fine one"}] * 3 + [{"text": "bad \ud800"}]
    before = client.app.state.service.store.count()  # type: ignore[attr-defined]
    r = post_json(client, "/v1/triage/batch", {"tickets": tickets})
    assert r.status_code == 422 and r.json()["error"]["field"] == "tickets.3.text"
    assert client.app.state.service.store.count() == before  # type: ignore[attr-defined]
    assert client.post("/v1/triage/batch", json={"tickets": [{"text": "Where is my parcel?"}]}).status_code == 200


def test_a_blank_customer_id_is_refused(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": "Where is my parcel?", "customer_id": "   "})
    assert r.status_code == 422 and r.json()["error"]["field"] == "customer_id"


def test_control_characters_are_removed_before_storage(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": "Where is\x07 my parcel?\x1b It is late."})
    assert r.status_code == 200
    stored = client.app.state.service.store.get(r.json()["id"])  # type: ignore[attr-defined]
    assert stored["payload"]["text"] == "Where is my parcel? It is late."


def test_feedback_with_an_unstorable_comment_is_refused_and_the_store_stays_writable(client: TestClient) -> None:
    ticket_id = client.post("/v1/triage", json={"text": "I was charged twice."}).json()["id"]
    feedback = {"ticket_id": ticket_id, "agent_id": "a1", "topic": "billing", "comment": "see \ud800"}
    r = post_json(client, "/v1/feedback", feedback)
    assert r.status_code == 422 and r.json()["error"]["field"] == "comment"
    r = client.post("/v1/feedback", json={**feedback, "comment": f"customer said card {CARD}"})
    assert r.status_code == 201, r.text
    [record] = client.app.state.service.feedback.for_ticket(ticket_id)  # type: ignore[attr-defined]
    assert CARD not in (record.feedback.comment or "") and "[CARD_NUMBER ****1111]" in record.feedback.comment


def test_readyz_fails_while_the_ticket_log_cannot_be_written(client: TestClient, settings: Settings) -> None:
    assert client.get("/readyz").status_code == 200
    other = sqlite3.connect(settings.database_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.get("/readyz").status_code == 200


def test_pii_in_every_field_is_reported_with_its_field_and_stored_masked(client: TestClient) -> None:
    payload = {
        "text": "Please refund me, I paid twice.",
        "subject": "mail ana.kovac@example.com",
        "customer_name": "Ana Kovač",
        "customer_id": "cust-17",
        "messages": [{"text": f"Card {CARD}, CVV 123", "author": "customer"}],
        "metadata": {"callback": "+385 91 234 5678"},
    }
    r = client.post("/v1/triage", json=payload)
    assert r.status_code == 200, r.text
    body = r.json()
    spans = {(p["field"], p["label"], p["text"]) for p in body["pii"]}
    assert spans == {
        ("subject", "EMAIL", "[EMAIL]"),
        ("messages.0.text", "CARD_NUMBER", "[CARD_NUMBER ****1111]"),
        ("messages.0.text", "CARD_SECURITY_CODE", "[CARD_SECURITY_CODE]"),
    }
    card = next(p for p in body["pii"] if p["label"] == "CARD_NUMBER")
    assert payload["messages"][0]["text"][card["start"] : card["end"]] == CARD  # offsets into the named field
    assert "pii_present" in body["handoff"]["reasons"]
    stored = client.app.state.service.store.get(body["id"])  # type: ignore[attr-defined]
    flat = json.dumps(stored, ensure_ascii=False)
    for secret in (CARD, "CVV 123", "ana.kovac@example.com", "+385 91 234 5678", "Kovač", "cust-17"):
        assert secret not in flat, secret
