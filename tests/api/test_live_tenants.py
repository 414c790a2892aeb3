"""Tenants through a real `sift serve`: one process, two helpdesks, each key answered from its own tenant."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from engine.models.registry import ModelRegistry
from engine.settings import Settings
from engine.store.keys import KeyStore
from engine.store.schema import api_keys
from tests.api.live import live_server
from tests.api.tenant_files import ARTICLES, skylark_tenant

pytestmark = pytest.mark.slow


def test_one_server_answers_each_tenant_from_its_own_kb_and_log(
    data_dir: Path, ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    toml = tmp_path / "sift.toml"
    entry = "".join(f"{key} = {json.dumps(value)}\n" for key, value in skylark_tenant(tmp_path).items())
    toml.write_text(f"translators = []\n[tenants.skylark]\n{entry}", encoding="utf-8")  # JSON strings are TOML's
    store = KeyStore(Settings(data_dir=data_dir).keys_database)
    _, sky = store.create("skylark-desk", ["triage", "admin"], tenant="skylark")
    _, lumio = store.create("lumio-desk", ["triage", "admin"])
    try:
        with live_server(data_dir, settings_file=toml) as base:
            ready = httpx.get(f"{base}/readyz").json()
            assert "skylark" in ready["tenants"]
            ticket = {"text": "The battery of my Skylark drone does not charge, the LED stays red."}
            theirs = httpx.post(f"{base}/v1/triage", json=ticket, headers={"X-API-Key": sky}, timeout=60).json()
            ours = httpx.post(f"{base}/v1/triage", json=ticket, headers={"X-API-Key": lumio}, timeout=60).json()
            assert theirs["topic"]["label"] == "battery" and theirs["articles"][0]["id"] in ARTICLES
            assert not {a["id"] for a in ours["articles"]} & set(ARTICLES)
            assert httpx.get(f"{base}/v1/tickets/{theirs['id']}", headers={"X-API-Key": lumio}).status_code == 404
            assert httpx.get(f"{base}/v1/tickets/{theirs['id']}", headers={"X-API-Key": sky}).status_code == 200
    finally:
        with store._db.write() as db:  # noqa: SLF001 - no command deletes keys; other tests expect an open API
            db.execute(delete(api_keys))
        store.close()
