"""The API through a real uvicorn process started the way operators start it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.models.registry import ModelRegistry
from tests.api.live import live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(data_dir: Path, ready_registry: ModelRegistry) -> Iterator[str]:
    with live_server(data_dir) as base:
        yield base


def test_live_triage_round_trip(server: str) -> None:
    r = httpx.post(
        f"{server}/v1/triage",
        json={"text": "My Lumio Hub keeps going offline every night and the lights stop working.", "customer_name": "Ana"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"]["code"] == "en"
    assert body["topic"]["label"] == "technical"
    assert body["draft"]["text"].startswith("Hi Ana,")
    assert body["articles"]


def test_live_bad_input_and_docs(server: str) -> None:
    r = httpx.post(f"{server}/v1/triage", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"
    r = httpx.post(f"{server}/v1/triage", json={"text": "hello", "channel": "pigeon"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "channel"
    assert httpx.get(f"{server}/docs").status_code == 200
    assert "/v1/triage" in httpx.get(f"{server}/openapi.json").json()["paths"]


def test_live_feedback_and_reload(server: str) -> None:
    text = "I was charged twice for my order, please refund one."
    r = httpx.post(f"{server}/v1/triage", json={"text": text}, timeout=60)
    assert r.status_code == 200, r.text
    ticket_id = r.json()["id"]
    feedback = {"ticket_id": ticket_id, "agent_id": "agent-1", "topic": "billing", "urgency": "high", "draft_helped": True}
    r = httpx.post(f"{server}/v1/feedback", json=feedback, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["ticket_id"] == ticket_id and r.json()["id"]
    r = httpx.post(f"{server}/v1/feedback", json={"ticket_id": "unknown", "agent_id": "agent-1", "topic": "billing"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "ticket_id"
    r = httpx.post(f"{server}/v1/admin/reload", timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reloaded"
