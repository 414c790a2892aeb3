"""Exactly once through the API, with the real models: a retried ticket is answered from the log, a clash is
a 409 naming the field, and tickets a dead process left accepted are finished by recovery."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.idempotency import NO_SOURCE, external_key
from engine.recovery import Recovery
from engine.settings import Settings
from engine.store import TicketStore
from engine.store.db import utc_now
from engine.types import Ticket
from tests.store.conftest import execute

pytestmark = pytest.mark.slow


def _id() -> str:
    return f"ZD-{uuid.uuid4().hex[:10]}"


def test_a_retry_is_answered_from_the_log_and_stored_once(client: TestClient) -> None:
    ticket = {"text": "My Lumio Hub keeps going offline every night.", "external_id": _id()}
    first = client.post("/v1/triage", json=ticket)
    assert first.status_code == 200, first.text
    again = client.post("/v1/triage", json=ticket)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()  # no personal data in it: the stored result is the response as sent
    [status] = client.get("/v1/tickets", params={"external_id": ticket["external_id"]}).json()["items"]
    assert (status["id"], status["status"], status["attempts"]) == (first.json()["id"], "processed", 1)
    assert status["external_id"] == ticket["external_id"]
    assert client.get(f"/v1/tickets/{status['id']}").json()["result"]["topic"] == first.json()["topic"]
    assert "sift_ticket_retries_total" in client.get("/metrics").text


def test_the_idempotency_key_header_is_the_external_id(client: TestClient) -> None:
    key = _id()
    ticket = {"text": "I was charged twice for my order, please refund one."}
    first = client.post("/v1/triage", json=ticket, headers={"Idempotency-Key": key})
    assert first.status_code == 200, first.text
    retry = client.post("/v1/triage", json={**ticket, "external_id": key})
    assert retry.json()["id"] == first.json()["id"]
    r = client.post("/v1/triage", json={**ticket, "external_id": "other"}, headers={"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["error"]["field"] == "Idempotency-Key"
    r = client.post("/v1/triage", json=ticket, headers={"Idempotency-Key": "  "})
    assert r.status_code == 422 and r.json()["error"]["field"] == "Idempotency-Key"
    r = client.post("/v1/triage/batch", json={"tickets": [ticket]}, headers={"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["error"]["field"] == "Idempotency-Key"


def test_other_content_under_a_used_id_is_a_conflict_naming_the_field(client: TestClient) -> None:
    used = _id()
    assert client.post("/v1/triage", json={"text": "Where is my parcel?", "external_id": used}).status_code == 200
    r = client.post("/v1/triage", json={"text": "Where is my refund?", "external_id": used})
    assert r.status_code == 409, r.text
    assert r.json()["error"] == {
        "code": "conflict", "field": "external_id", "message": r.json()["error"]["message"]
    } and used in r.json()["error"]["message"]
    fresh = _id()
    batch = {"tickets": [{"text": "Hello", "external_id": fresh}, {"text": "Where is my refund?", "external_id": used}]}
    r = client.post("/v1/triage/batch", json=batch)
    assert r.status_code == 409 and r.json()["error"]["field"] == "tickets.1.external_id"
    assert client.get("/v1/tickets", params={"external_id": fresh}).json()["items"] == []  # the batch stored nothing
    twice = {"tickets": [{"text": "a", "external_id": fresh}, {"text": "b", "external_id": fresh}]}
    r = client.post("/v1/triage/batch", json=twice)
    assert r.status_code == 422 and r.json()["error"]["field"] == "tickets.1.external_id"


def test_a_resent_batch_is_triaged_only_where_it_was_not(client: TestClient) -> None:
    tickets = [{"text": f"Order {n} has not arrived yet.", "external_id": _id()} for n in range(4)]
    first = client.post("/v1/triage/batch", json={"tickets": tickets[:2]}).json()["results"]
    resent = client.post("/v1/triage/batch", json={"tickets": tickets}).json()["results"]
    assert resent[:2] == first
    assert len({r["id"] for r in resent}) == 4
    for ticket, result in zip(tickets, resent, strict=True):
        [stored] = client.get("/v1/tickets", params={"external_id": ticket["external_id"]}).json()["items"]
        assert (stored["id"], stored["status"]) == (result["id"], "processed")


def test_tickets_a_dead_process_left_accepted_are_recovered(client: TestClient, settings: Settings) -> None:
    store = TicketStore(settings.database)
    try:
        orphans = store.accept([{"text": "My hub is offline again", "channel": "email"},
                                {"text": "Refund for order 5531 please", "customer_name": "[CUSTOMER_NAME]"}])
    finally:
        store.close()
    marks = ", ".join(f"'{o}'" for o in orphans)
    execute(settings.database, f"UPDATE tickets SET claimed_by = 'dead:1:x', "  # noqa: S608 - our own ids
            f"claimed_at = '2000-01-01T00:00:00.000+00:00' WHERE id IN ({marks})")
    assert client.get(f"/v1/tickets/{orphans[0]}").json()["status"] == "accepted"
    while Recovery(client.app.state.service).sweep_once():  # type: ignore[attr-defined]
        pass
    for orphan in orphans:
        stored = client.get(f"/v1/tickets/{orphan}").json()
        assert stored["status"] == "processed" and stored["attempts"] == 2, stored
        assert stored["result"]["id"] == orphan
    assert not client.get(f"/v1/tickets/{orphans[1]}").json()["result"]["draft"]["text"].count("[CUSTOMER_NAME]")
    assert 'sift_recovered_tickets_total{outcome="recovered",tenant="default"}' in client.get("/metrics").text
    assert client.get("/v1/tickets/unknown").status_code == 404


def test_a_retry_waits_for_a_live_claim_and_takes_over_a_dead_ones(client: TestClient, settings: Settings) -> None:
    ticket = {"text": "The thermostat shows the wrong temperature.", "external_id": _id()}
    service = client.app.state.service  # type: ignore[attr-defined]
    key = external_key(Ticket(**ticket), NO_SOURCE, service._data_key())  # noqa: SLF001 - the key the API uses
    store = TicketStore(settings.database)
    try:  # the first copy, accepted by a process that is still alive (its claim is fresh)
        [first] = store.claims.admit([{"text": ticket["text"]}], [None], [key], "other:1:x", utc_now())
    finally:
        store.close()
    answers: list[Any] = []
    retry = threading.Thread(target=lambda: answers.append(client.post("/v1/triage", json=ticket)))
    retry.start()
    retry.join(timeout=1.5)
    assert retry.is_alive() and not answers  # waiting for the live claimant, not triaging a second copy
    execute(settings.database, "UPDATE tickets SET claimed_at = '2000-01-01T00:00:00.000+00:00' "
            f"WHERE id = '{first.id}'")  # noqa: S608 - our own id; the claimant died
    retry.join(timeout=120)
    [answer] = answers
    assert answer.status_code == 200 and answer.json()["id"] == first.id, answer.text
    stored = client.get(f"/v1/tickets/{first.id}").json()
    assert (stored["status"], stored["attempts"]) == ("processed", 2)
