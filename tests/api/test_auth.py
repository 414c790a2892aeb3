"""API keys on the wire: no key, a wrong key, a missing scope, a revoked key and an exhausted budget each get
their own status; health checks and metrics stay open for the load balancer and Prometheus."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.store.keys import KeyStore

pytestmark = pytest.mark.slow


def test_without_keys_the_api_is_open(client: TestClient) -> None:
    assert client.post("/v1/triage", json={"text": "Where is my parcel?"}).status_code == 200


def test_keys_scopes_and_revocation(client: TestClient, keys: KeyStore) -> None:
    key, secret = keys.create("helpdesk", ["triage"])
    ticket = {"text": "Where is my parcel?"}
    missing = client.post("/v1/triage", json=ticket)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    assert client.post("/v1/triage", json=ticket, headers={"Authorization": "Bearer sift_wrong"}).status_code == 401
    assert client.post("/v1/triage", json=ticket, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.post("/v1/triage", json=ticket, headers={"X-API-Key": secret}).status_code == 200

    forbidden = client.get("/v1/articles/suggest", params={"q": "reset password"}, headers={"X-API-Key": secret})
    assert forbidden.status_code == 403 and "'suggest'" in forbidden.json()["error"]["message"]
    assert client.post("/v1/admin/reload", headers={"X-API-Key": secret}).status_code == 403
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(open_path).status_code == 200, open_path

    keys.revoke(key.id)  # the last key: the API stays closed
    assert client.post("/v1/triage", json=ticket, headers={"X-API-Key": secret}).status_code == 401
    assert client.post("/v1/triage", json=ticket).status_code == 401


def test_a_key_over_its_budget_waits(client: TestClient, keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _, secret = keys.create("widget", ["suggest"])
    monkeypatch.setattr(client.app.state.auth, "_per_minute", 2)  # type: ignore[attr-defined]
    headers = {"X-API-Key": secret}
    statuses = [client.get("/v1/articles/suggest", params={"q": "reset password"}, headers=headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[-1].headers["retry-after"]) >= 1
    assert statuses[-1].json()["error"]["code"] == "rate_limited"


def test_feedback_listing_and_deletion_scopes(client: TestClient, keys: KeyStore) -> None:
    _, feedback = keys.create("helpdesk", ["feedback"])
    _, admin = keys.create("ops", ["admin"])
    _, triage = keys.create("zendesk", ["triage"])
    assert client.get("/v1/feedback", headers={"X-API-Key": feedback}).status_code == 200
    assert client.get("/v1/feedback", headers={"X-API-Key": admin}).status_code == 200
    refused = client.get("/v1/feedback", headers={"X-API-Key": triage})
    assert refused.status_code == 403 and "'feedback' or 'admin'" in refused.json()["error"]["message"]
    # Deleting rewrites the audit trail: the operator's, not the integration's that records feedback.
    assert client.delete("/v1/feedback/" + "0" * 32, headers={"X-API-Key": feedback}).status_code == 403
    assert client.delete("/v1/feedback/" + "0" * 32, headers={"X-API-Key": admin}).status_code == 404
