"""Each tenant's ticket log is its own database, on SQLite and on PostgreSQL; API keys stay in the server's."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.settings import Settings
from engine.store import TicketStore
from engine.store.keys import KeyStore
from tests.store.conftest import PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def tenant_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    tenant = {"kb_dir": str(tmp_path / "kb")}
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path, tenants={"skylark": tenant})
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return Settings(
        data_dir=tmp_path, database_url=server.create_database(),
        tenants={"skylark": {**tenant, "database_url": server.create_database()}},
    )


def test_a_tenants_tickets_are_not_in_anothers_log(tenant_settings: Settings) -> None:
    ours, theirs = TicketStore(tenant_settings.database), TicketStore(tenant_settings.for_tenant("skylark").database)
    try:
        [mine] = ours.accept([{"text": "Where is my order?"}])
        [other] = theirs.accept([{"text": "My drone battery does not charge"}])
        assert ours.get(mine) is not None and ours.get(other) is None
        assert theirs.get(other) is not None and theirs.get(mine) is None
        assert ours.count() == theirs.count() == 1
    finally:
        ours.close()
        theirs.close()


def test_keys_live_in_the_servers_database_whichever_tenant_they_serve(tenant_settings: Settings) -> None:
    tenant = tenant_settings.for_tenant("skylark")
    assert tenant.keys_database == tenant_settings.database != tenant.database
    keys = KeyStore(tenant.keys_database)
    try:
        key, _ = keys.create("skylark-desk", ["triage"], tenant="skylark")
        assert [(k.name, k.tenant) for k in keys.list()] == [("skylark-desk", "skylark")]
    finally:
        keys.close()
