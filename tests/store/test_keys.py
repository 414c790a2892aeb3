"""API keys at rest, on both backends: only hashes, scopes checked, revocation kept for the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.store.db import Location
from engine.store.keys import KeyStore, key_hash
from tests.store.conftest import execute


def test_a_key_is_stored_only_as_its_hash(location: Location) -> None:
    store = KeyStore(location)
    assert not store.exist()
    key, secret = store.create("zendesk-prod", ["triage", "feedback"])
    assert secret.startswith("sift_") and len(secret) > 40 and key.prefix == secret[:12]
    assert set(store.active()) == {key_hash(secret)} and store.active()[key_hash(secret)].scopes == ("feedback", "triage")
    assert store.exist()
    store.close()
    [row] = execute(location, "SELECT * FROM api_keys")
    assert secret not in row and key_hash(secret) in row and "feedback triage" in row
    if isinstance(location, Path):
        stored = b"".join(p.read_bytes() for p in location.parent.glob("sift.db*"))
        assert secret.encode() not in stored and key_hash(secret).encode() in stored


def test_revoked_keys_stay_listed_but_inactive(location: Location) -> None:
    store = KeyStore(location)
    key, _ = store.create("widget", ["suggest"])
    other, _ = store.create("zendesk", ["triage"])
    revoked = store.revoke(key.id)
    assert revoked.revoked_at is not None and [k.id for k in store.active().values()] == [other.id]
    assert {k.id for k in store.list()} == {key.id, other.id}
    assert store.exist()
    with pytest.raises(InvalidInput, match="no active key"):
        store.revoke(key.id)


@pytest.mark.parametrize(("name", "scopes", "field"), [("x", ["everything"], "--scope"), ("x", [], "--scope"), (" ", ["triage"], "--name")])
def test_bad_keys_are_refused_naming_the_option(tmp_path: Path, name: str, scopes: list[str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        KeyStore(tmp_path / "sift.db").create(name, scopes)
    assert caught.value.field == field


def test_a_widget_key_keeps_its_origins(location: Location) -> None:
    store = KeyStore(location)
    key, secret = store.create("shop-widget", ["suggest"], ["https://Shop.example/", "http://localhost:8080",
                                                            "https://shop.example:443"])
    assert key.origins == ("http://localhost:8080", "https://shop.example")
    assert store.active()[key_hash(secret)].origins == key.origins
    plain, _ = store.create("zendesk", ["triage"])
    assert {k.id: k.origins for k in store.list()} == {key.id: key.origins, plain.id: ()}


@pytest.mark.parametrize(
    ("scopes", "origin"),
    [
        (["suggest", "triage"], "https://shop.example"),
        (["suggest"], "https://shop.example/help"),
        (["suggest"], "ftp://shop.example"),
        (["suggest"], "shop.example"),
        (["suggest"], "https://shop.example:99999"),
        (["suggest"], "https://user@shop.example"),
    ],
)
def test_origins_only_for_suggest_keys_and_only_origins(tmp_path: Path, scopes: list[str], origin: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        KeyStore(tmp_path / "sift.db").create("widget", scopes, [origin])
    assert caught.value.field == "--origin"
