"""Migrations: a fresh database of either backend ends up exactly as ``engine/store/schema.py`` says, a data
directory made before Alembic upgrades in place, replicas opening together migrate once, a newer schema is
refused, and `sift db` reports and upgrades."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import SiftError
from engine.settings import get_settings
from engine.store import FeedbackStore, TicketStore
from engine.store.db import Location, connect
from engine.store.keys import KeyStore
from engine.store.migrate import current, head
from engine.store.schema import metadata
from tests.store.conftest import execute

# The schema as the release before Alembic created it (engine/store/{tickets,feedback,keys}.py), verbatim.
PRE_ALEMBIC_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    channel TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'processed', 'failed')),
    result TEXT,
    queue TEXT,
    handoff INTEGER,
    processed_at TEXT,
    error TEXT,
    customer_key TEXT
);
CREATE INDEX IF NOT EXISTS tickets_received ON tickets (received_at);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status);
CREATE INDEX IF NOT EXISTS tickets_customer ON tickets (customer_key) WHERE customer_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    created_at TEXT NOT NULL,
    agent_id TEXT,
    topic TEXT,
    urgency TEXT CHECK (urgency IS NULL OR urgency IN ('low', 'normal', 'high', 'urgent')),
    handoff INTEGER,
    article_id TEXT,
    article_helped INTEGER,
    draft_helped INTEGER,
    comment TEXT
);
CREATE INDEX IF NOT EXISTS feedback_ticket ON feedback (ticket_id, created_at);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""
AT = "2026-01-01T00:00:00.000+00:00"
runner = CliRunner()


def _sift(*args: str) -> str:
    """A CLI command's output, its lines unwrapped."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _differences(location: Location) -> list[object]:
    database = connect(location)
    try:
        with database.read() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        database.close()


def test_a_fresh_database_matches_the_schema_module(location: Location) -> None:
    TicketStore(location).close()
    assert _differences(location) == []
    assert current(connect(location)) == head()


def test_a_ticket_log_from_before_alembic_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "sift.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA journal_mode=WAL")
        old.executescript(PRE_ALEMBIC_SCHEMA)
        old.execute("INSERT INTO tickets (id, received_at, payload, status, result, customer_key) VALUES "
                    "('t1', ?, '{\"text\": \"kept\"}', 'processed', '{}', 'k-ana')", (AT,))
        # Same millisecond, given in the order f2, f1: the rowid told them apart, and still must.
        for fid, topic in (("f2", "billing"), ("f1", "returns")):
            old.execute("INSERT INTO feedback (id, ticket_id, created_at, topic) VALUES (?, 't1', ?, ?)", (fid, AT, topic))
        old.execute("INSERT INTO api_keys VALUES ('k1', 'zendesk', 'sift_abc', 'h', 'triage', ?, NULL)", (AT,))
    assert current(connect(path)) is None

    feedback = FeedbackStore(path)
    assert current(connect(path)) == head()
    # SQLite let the old "id TEXT PRIMARY KEY" hold NULL; Sift never wrote one, and rebuilding tables to say
    # NOT NULL is not worth a copy of every customer's tickets.
    old_primary_keys = [("modify_nullable", None, table, "id") for table in ("api_keys", "feedback", "tickets")]
    assert sorted(tuple(d[0][:4]) for d in _differences(path)) == old_primary_keys
    assert [(r.id, r.feedback.topic, r.text) for r in feedback.records()] == [("f2", "billing", "kept"), ("f1", "returns", "kept")]
    later = feedback.record(feedback.records()[0].feedback)
    assert [r.id for r in feedback.for_ticket("t1")][-1] == later.id
    assert [(k.id, k.origins) for k in KeyStore(path).list()] == [("k1", ())]  # 0003: no page may use an old key
    tickets = TicketStore(path)
    assert tickets.count() == 1 and tickets.get("t1") is not None
    assert execute(path, "PRAGMA journal_mode") == [("wal",)]


def test_an_older_ticket_log_without_feedback_or_keys_gains_them(tmp_path: Path) -> None:
    path = tmp_path / "sift.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE tickets (id TEXT PRIMARY KEY, received_at TEXT NOT NULL, channel TEXT, payload TEXT NOT NULL, "
            "status TEXT NOT NULL, result TEXT, queue TEXT, handoff INTEGER, processed_at TEXT, error TEXT)"
        )
    KeyStore(path).create("widget", ["suggest"])
    [ticket_id] = TicketStore(path).accept([{"text": "a"}], ["k1"])
    assert execute(path, "SELECT customer_key FROM tickets WHERE id = :id", id=ticket_id) == [("k1",)]
    assert {row[0] for row in execute(path, "SELECT name FROM sqlite_master WHERE type = 'index'")} >= {
        "tickets_customer", "feedback_ticket", "feedback_seq"
    }


def test_replicas_opening_a_new_database_together_migrate_once(location: Location) -> None:
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: TicketStore(location), range(4)))
    assert execute(location, "SELECT version_num FROM alembic_version") == [(head(),)]
    [ticket_id] = stores[0].accept([{"text": "a"}])
    assert all(store.get(ticket_id) is not None for store in stores)


def test_a_database_from_a_newer_release_is_refused(location: Location) -> None:
    TicketStore(location).close()
    execute(location, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SiftError, match="revision '9999', newer than this Sift"):
        TicketStore(location)


def test_sift_db_reports_and_upgrades(location: Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "data"))
    if isinstance(location, str):
        monkeypatch.setenv("SIFT_DATABASE_URL", location)
    get_settings.cache_clear()
    before = _sift("db", "current")
    assert "schema revision none" in before and f"upgrades it to {head()}" in before
    assert "upgraded from none" in _sift("db", "upgrade")
    assert f"schema revision {head()} (up to date)" in _sift("db", "current")
    assert current(connect(get_settings().database)) == head()
