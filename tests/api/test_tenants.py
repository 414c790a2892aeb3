"""Tenants through the API: a key reaches its own tenant's KB, heads, policy, ticket log and feedback, and nothing
of another tenant's; the help centre and the metrics tell tenants apart; both share one set of loaded models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import delete

from engine.api.app import create_app
from engine.settings import Settings
from engine.store.keys import KeyStore
from engine.store.schema import api_keys
from tests.conftest import ready_client

pytestmark = pytest.mark.slow

ARTICLES = {
    "drone-battery-charging": (
        "Charge your Skylark drone battery",
        "## Charging\n\nConnect the battery to the Skylark charging hub. The LED turns green after about 70 "
        "minutes. Never charge a swollen battery.\n",
    ),
    "drone-warranty-claim": (
        "Make a warranty claim for your Skylark drone",
        "## Warranty\n\nSkylark drones have a two-year warranty. Send the serial number and a photo of the damage "
        "through the claims form; we answer within three working days.\n",
    ),
}
TRAINING = {
    "battery": [
        "My drone battery will not charge", "The battery LED stays red on the hub", "Battery drains in 5 minutes",
        "How long does the battery take to charge?", "The charging hub does not light up",
        "Der Akku der Drohne lädt nicht", "Akku ist nach kurzer Zeit leer", "Can I fly while the battery charges?",
        "Battery got warm after charging", "Which charger works with the Skylark battery?",
    ],
    "warranty": [
        "My drone broke after a week, is it under warranty?", "How do I make a warranty claim?",
        "The propeller arm cracked, warranty please", "Is a crash covered by the warranty?",
        "Garantie für meine Drohne beantragen", "How long is the warranty?", "Warranty claim for a broken camera",
        "I want my drone repaired under warranty", "Does the warranty cover water damage?",
        "Where do I send the serial number for the warranty?",
    ],
    "shipping": [
        "Where is my drone order?", "My parcel has not arrived", "When will my order ship?",
        "Tracking number does not work", "Wo bleibt meine Bestellung?", "Can you ship to Austria?",
        "The delivery is late", "Parcel shows delivered but nothing came", "How much does shipping cost?",
        "Can I change the delivery address?",
    ],
}


def _tenant_files(root: Path) -> dict[str, object]:
    """A second helpdesk's KB, training data and routing policy, as a tenant entry of the settings."""
    kb = root / "kb"
    kb.mkdir()
    for article_id, (title, body) in ARTICLES.items():
        (kb / f"{article_id}.md").write_text(
            f"---\nid: {article_id}\ntitle: {title}\nlanguage: en\n---\n\n{body}", encoding="utf-8"
        )
    training = root / "training.jsonl"
    with training.open("w", encoding="utf-8") as fh:
        for topic, texts in TRAINING.items():
            for i, text in enumerate(texts):
                fh.write(json.dumps({"text": text, "topic": topic, "urgency": "high" if i % 3 == 0 else "normal"}) + "\n")
    shipped = yaml.safe_load((Path(__file__).parents[2] / "engine" / "route" / "routing.yaml").read_text())
    shipped["queues"] = {"battery": "power", "warranty": "claims", "shipping": "logistics"}
    shipped["thresholds"].pop("per_topic", None)
    shipped.pop("always_handoff_topics", None)
    policy = root / "routing.yaml"
    policy.write_text(yaml.safe_dump(shipped), encoding="utf-8")
    return {"kb_dir": str(kb), "default_training_data": str(training), "routing_file": str(policy), "brand": "Skylark"}


@pytest.fixture(scope="module")
def tenant_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(update={"tenants": {"skylark": _tenant_files(tmp_path_factory.mktemp("skylark"))}})


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
