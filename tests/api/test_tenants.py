"""Tenants through the API: a key reaches its own tenant's KB, heads, policy, ticket log and feedback, and nothing
of another tenant's; the help centre and the metrics tell tenants apart; both share one set of loaded models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from engine.api.app import create_app
from engine.settings import Settings
from engine.store.keys import KeyStore
from engine.store.schema import api_keys
from tests.api.tenant_files import ARTICLES, TRAINING, skylark_tenant
from tests.conftest import ready_client

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def tenant_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(update={"tenants": {"skylark": skylark_tenant(tmp_path_factory.mktemp("skylark"))}})


@pytest.fixture(scope="module")
def tenant_client(tenant_settings: Settings, ready_registry: object) -> Iterator[TestClient]:
    with TestClient(create_app(tenant_settings)) as c:
        yield ready_client(c)


@pytest.fixture
def tenant_keys(tenant_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An all-scopes key for each tenant; the key table is emptied after, so other tests see an open API."""
    monkeypatch.setattr("engine.api.auth.REFRESH_SECONDS", 0.0)
    store = KeyStore(tenant_settings.keys_database)
    scopes = ["triage", "suggest", "feedback", "admin"]
    made = {tenant: store.create(f"{tenant}-desk", scopes, tenant=tenant)[1] for tenant in ("default", "skylark")}
    yield {tenant: secret for tenant, secret in made.items()}
    with store._db.write() as db:  # noqa: SLF001 - no command deletes keys
        db.execute(delete(api_keys))
    store.close()


def _as(secret: str) -> dict[str, str]:
    return {"X-API-Key": secret}


def test_each_key_reaches_its_own_tenant_only(tenant_client: TestClient, tenant_keys: dict[str, str]) -> None:
    sky, lumio = _as(tenant_keys["skylark"]), _as(tenant_keys["default"])
    question = {"text": "My Skylark drone battery will not charge, the LED stays red.", "customer_name": "Ana"}

    theirs = tenant_client.post("/v1/triage", json=question, headers=sky).json()
    assert theirs["topic"]["label"] == "battery"
    assert theirs["route"]["queue"] == "power"  # the tenant's own policy
    assert theirs["articles"] and {a["id"] for a in theirs["articles"]} <= set(ARTICLES)
    assert theirs["articles"][0]["id"] == "drone-battery-charging"

    ours = tenant_client.post("/v1/triage", json=question, headers=lumio).json()
    assert ours["topic"]["label"] not in TRAINING  # the default tenant's taxonomy knows no drone topics
    assert not {a["id"] for a in ours["articles"]} & set(ARTICLES)

    # The ticket log: each tenant lists and reads only its own tickets.
    assert tenant_client.get(f"/v1/tickets/{theirs['id']}", headers=sky).status_code == 200
    assert tenant_client.get(f"/v1/tickets/{theirs['id']}", headers=lumio).status_code == 404
    assert tenant_client.get(f"/v1/tickets/{ours['id']}", headers=sky).status_code == 404
    listed = {t["id"] for t in tenant_client.get("/v1/tickets", headers=sky).json()["items"]}
    assert theirs["id"] in listed and ours["id"] not in listed

    # Feedback is checked against the tenant's own taxonomy and stored in its own log.
    corrected = tenant_client.post(
        "/v1/feedback", json={"ticket_id": theirs["id"], "agent_id": "a1", "topic": "warranty"}, headers=sky
    )
    assert corrected.status_code == 201, corrected.text
    refused = tenant_client.post("/v1/feedback", json={"ticket_id": ours["id"], "agent_id": "a1", "topic": "warranty"}, headers=lumio)
    assert refused.status_code == 422 and "warranty" in refused.json()["error"]["message"]
    sky_feedback = {f["id"] for f in tenant_client.get("/v1/feedback", headers=sky).json()["items"]}
    assert corrected.json()["id"] in sky_feedback
    assert corrected.json()["id"] not in {f["id"] for f in tenant_client.get("/v1/feedback", headers=lumio).json()["items"]}

    # Self-service search answers from the tenant's KB.
    found = tenant_client.get("/v1/articles/suggest", params={"q": "warranty claim for my drone"}, headers=sky).json()
    assert found["articles"][0]["id"] == "drone-warranty-claim"


def test_readiness_metrics_and_shared_models(tenant_client: TestClient, tenant_keys: dict[str, str]) -> None:
    ready = tenant_client.get("/readyz").json()
    assert set(ready["tenants"]) == {"skylark"} and "topic" in ready["tenants"]["skylark"]["heads"]
    tenant_client.post("/v1/triage", json={"text": "Where is my drone order?"}, headers=_as(tenant_keys["skylark"]))
    assert 'tenant="skylark"' in tenant_client.get("/metrics").text
    services = tenant_client.app.state.services  # type: ignore[attr-defined]
    assert services["skylark"].pipeline.registry.encoder is services["default"].pipeline.registry.encoder
    assert services["skylark"].settings.database != services["default"].settings.database


def test_the_help_centre_of_a_tenant(tenant_client: TestClient) -> None:
    page = tenant_client.get("/help", params={"tenant": "skylark", "q": "battery does not charge", "lang": "en"})
    assert page.status_code == 200 and "Charge your Skylark drone battery" in page.text
    assert 'name="tenant" value="skylark"' in page.text  # the next search and the contact form stay with it
    assert tenant_client.get("/help", params={"tenant": "nobody", "q": "battery"}).status_code == 404
    default = tenant_client.get("/help", params={"q": "battery does not charge", "lang": "en"})
    assert "Skylark" not in default.text


def test_the_console_shows_the_agents_tenant_and_its_queue(tenant_client: TestClient, tenant_keys: dict[str, str]) -> None:
    sky = tenant_client.post(
        "/v1/triage", json={"text": "Warranty claim for my cracked drone arm"}, headers=_as(tenant_keys["skylark"])
    ).json()
    lumio = tenant_client.post(
        "/v1/triage", json={"text": "My Lumio plug is offline"}, headers=_as(tenant_keys["default"])
    ).json()
    origin = {"Origin": "http://testserver"}
    login = tenant_client.post("/console/login", data={"key": tenant_keys["skylark"], "next": "/console"},
                               headers=origin, follow_redirects=False)
    assert login.status_code == 303, login.text
    try:
        queue = tenant_client.get("/console").text
        assert "for <strong>skylark</strong>" in queue
        assert f"/console/tickets/{sky['id']}" in queue and lumio["id"] not in queue
        assert tenant_client.get(f"/console/tickets/{lumio['id']}").status_code == 404
    finally:
        tenant_client.cookies.clear()
