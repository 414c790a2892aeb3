"""Tenants from the command line: `sift --tenant NAME` (or SIFT_TENANT) scopes a command to one tenant's data
directory and ticket log, keys name their tenant, and a wrong tenant name is exit code 2 naming the tenants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.settings import get_settings, select_tenant

runner = CliRunner()


@pytest.fixture
def tenant_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A settings file with one tenant beside the default one, in a fresh data directory."""
    kb = tmp_path / "skylark-kb"
    kb.mkdir()
    toml = tmp_path / "sift.toml"
    toml.write_text(f'[tenants.skylark]\nkb_dir = "{kb}"\nbrand = "Skylark"\n', encoding="utf-8")
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(toml))
    get_settings.cache_clear()
    yield tmp_path
    select_tenant(None)


def test_keys_name_their_tenant(tenant_config: Path) -> None:
    made = runner.invoke(app, ["keys", "create", "--name", "sky", "--scope", "triage", "--tenant", "skylark"])
    assert made.exit_code == 0, made.output
    assert "for tenant skylark" in made.stdout
    scoped = runner.invoke(app, ["--tenant", "skylark", "keys", "create", "--name", "sky2", "--scope", "admin"])
    assert scoped.exit_code == 0 and "for tenant skylark" in scoped.stdout
    plain = runner.invoke(app, ["keys", "create", "--name", "lumio", "--scope", "triage"])
    assert plain.exit_code == 0 and "for tenant default" in plain.stdout  # the selection does not stick
    listed = runner.invoke(app, ["keys", "list", "--json"])
    tenants = {row["name"]: row["tenant"] for row in json.loads(listed.stdout)}
    assert tenants == {"sky": "skylark", "sky2": "skylark", "lumio": "default"}
    # Keys live in the server's own database, whichever tenant made them.
    assert (tenant_config / "var" / "sift.db").is_file()
    assert not (tenant_config / "var" / "tenants" / "skylark" / "sift.db").exists()


def test_a_command_acts_for_the_tenant_it_names(tenant_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = runner.invoke(app, ["--tenant", "skylark", "feedback", "list"])
    assert listed.exit_code == 0, listed.output
    assert (tenant_config / "var" / "tenants" / "skylark" / "sift.db").is_file()  # the tenant's own ticket log
    monkeypatch.setenv("SIFT_TENANT", "skylark")
    assert get_settings().data_dir == tenant_config / "var" / "tenants" / "skylark"


def test_unknown_tenants_are_refused(tenant_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = runner.invoke(app, ["--tenant", "acme", "feedback", "list"])
    assert unknown.exit_code == 2 and "'acme' is not one of the tenants (skylark)" in unknown.output
    key = runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "triage", "--tenant", "acme"])
    assert key.exit_code == 2 and "default, skylark" in key.output
    serve = runner.invoke(app, ["--tenant", "skylark", "serve"])
    assert serve.exit_code == 2 and "serves every tenant" in serve.output
