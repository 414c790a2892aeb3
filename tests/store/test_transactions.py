"""A write that fails rolls back and leaves the store usable; a store that cannot write says so (#17 part 1)."""

from __future__ import annotations

import sqlite3
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.store.db import Location, connect
from tests.store.conftest import PostgresServer, execute


def test_a_failed_insert_does_not_wedge_the_ticket_log(location: Location) -> None:
    store = TicketStore(location)
    with pytest.raises(UnicodeEncodeError):
        store.accept([{"text": "ok"}, {"text": "hello \ud800 order"}])  # no driver can encode a lone surrogate
    assert store.count() == 0  # the whole batch rolled back, not half of it
    assert store.write_problem() is None
    [ticket_id] = store.accept([{"text": "the next customer"}])
    store.complete([(ticket_id, {"route": {"queue": "general"}, "handoff": {"required": False}})])
    stored = store.get(ticket_id)
    assert stored is not None and stored["status"] == "processed"


def test_failed_complete_and_fail_roll_back_too(location: Location) -> None:
    store = TicketStore(location)
    [ticket_id] = store.accept([{"text": "a"}])
    with pytest.raises(UnicodeEncodeError):
        store.complete([(ticket_id, {"route": {"queue": "\udc00"}})])
    store.fail([ticket_id], "boom")
    stored = store.get(ticket_id)
    assert stored is not None and stored["status"] == "failed" and stored["error"] == "boom"


def test_a_refused_feedback_leaves_the_feedback_store_writable(location: Location) -> None:
    tickets = TicketStore(location)
    [ticket_id] = tickets.accept([{"text": "where is my parcel"}])
    store = FeedbackStore(location)
    with pytest.raises(InvalidInput) as refused:
        Feedback(ticket_id=ticket_id, agent_id="a1", topic="delivery", comment="bad \ud800")
    assert refused.value.field == "comment"
    with pytest.raises(InvalidInput):
        store.record(Feedback(ticket_id="missing", agent_id="a1", topic="delivery"))
    assert store.write_problem() is None
    store.record(Feedback(ticket_id=ticket_id, agent_id="a1", topic="delivery"))
    assert store.count() == 1


def test_write_problem_reports_a_locked_database_and_clears_after(tmp_path: Path) -> None:
    path = tmp_path / "sift.db"
    store = TicketStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: this store cannot write now
    try:
        problem = store.write_problem()
        assert problem is not None and "cannot be written" in problem
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.write_problem() is None


def test_database_and_data_dir_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = TicketStore(data / "sift.db")
    store.accept([{"text": "a"}])
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("sift.db", "sift.db-wal", "sift.db-shm"):
        path = data / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_an_older_ticket_log_gains_the_customer_key_column(tmp_path: Path) -> None:
    path = tmp_path / "sift.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE tickets (id TEXT PRIMARY KEY, received_at TEXT NOT NULL, channel TEXT, payload TEXT NOT NULL, "
        "status TEXT NOT NULL, result TEXT, queue TEXT, handoff INTEGER, processed_at TEXT, error TEXT)"
    )
    old.commit()
    old.close()
    store = TicketStore(path)
    store.accept([{"text": "a"}], ["k1"])
    assert store.count() == 1


@pytest.mark.slow
def test_write_problem_reports_a_read_only_postgresql(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    TicketStore(url).close()
    name = url.split("/")[3].split("?")[0]
    admin = postgres_server.url("postgres")
    execute(admin, f"ALTER DATABASE {name} SET default_transaction_read_only = on")  # as a standby answers
    store = TicketStore(url)
    problem = store.write_problem()
    assert problem is not None and "read-only" in problem
    execute(admin, f"ALTER DATABASE {name} RESET default_transaction_read_only")
    store.close()
    assert TicketStore(url).write_problem() is None


def test_write_problem_reports_an_unreachable_postgresql(tmp_path: Path) -> None:
    database = connect(f"postgresql://sift@/sift?host={tmp_path}&port=5432")  # no server's socket there
    problem = database.write_problem()
    assert problem is not None and problem.startswith("the ticket log cannot be written")


def test_connections_opening_a_new_file_together_all_get_wal(tmp_path: Path) -> None:
    """SQLite refuses the WAL switch at once, without its busy handler, while another connection makes it."""
    for trial in range(40):
        location = tmp_path / f"{trial}.db"
        with ThreadPoolExecutor(8) as pool:
            modes = list(pool.map(_journal_mode, [location] * 8))
        assert modes == ["wal"] * 8


def _journal_mode(location: Path) -> str:
    database = connect(location)
    try:
        with database.engine.connect() as conn:
            return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
    finally:
        database.close()
