"""The port answers from the first second: 503 with Retry-After and what is being done while models load, and a
clear 503 (and the stop hook) when loading fails."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from tests.conftest import ready_client

pytestmark = pytest.mark.slow


def test_a_starting_service_says_so_then_serves(
    settings: Settings, ready_registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = __import__("engine.api.app", fromlist=["ensure_ready"]).ensure_ready

    def slow_ready(registry: ModelRegistry) -> object:
        release.wait(60)
        return real(registry)

    monkeypatch.setattr("engine.api.app.ensure_ready", slow_ready)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 60  # the loader opens the stores first, then blocks in slow_ready
        while "preparing" not in client.get("/readyz").text and time.monotonic() < deadline:
            time.sleep(0.05)
        for response in (client.post("/v1/triage", json={"text": "Where is my parcel?"}), client.get("/readyz")):
            assert response.status_code == 503 and response.headers["retry-after"] == "5"
            assert "preparing the data directory" in response.json()["error"]["message"]
        release.set()
        ready_client(client, timeout_s=300)
        assert client.post("/v1/triage", json={"text": "Where is my parcel?"}).status_code == 200


def test_a_failed_start_is_reported_and_stops_the_server(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = threading.Event()

    def broken(_: ModelRegistry) -> None:
        raise OSError("index folder unreadable")

    monkeypatch.setattr("engine.api.app.ensure_ready", broken)
    with TestClient(create_app(settings, on_start_failure=stopped.set)) as client:
        assert stopped.wait(60)
        response = client.get("/readyz")
        assert response.status_code == 503 and "retry-after" not in response.headers
        assert "failed to start: OSError: index folder unreadable" in response.json()["error"]["message"]
