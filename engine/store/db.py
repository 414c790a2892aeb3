"""The ticket log's database: SQLite in the data directory by default, PostgreSQL for several replicas.

Every store writes through :meth:`Database.write`: one transaction that commits before it returns and rolls
back on any exception, on a pooled connection that goes back to the pool rolled back, so a write that fails
half-way (a string the driver cannot encode, a full disk, a locked file) never leaves a transaction open
for the next request. Readiness asks :meth:`Database.write_problem`. Opening a database brings its schema to
the newest Alembic revision (``engine/store/migrate.py``).

SQLite keeps what the single-file log always had: WAL so readers run beside the writer, ``BEGIN IMMEDIATE``
so a write waits for the file's write lock at its start instead of failing half-way, ``secure_delete`` so
erased rows do not linger in free pages, and an owner-only file in an owner-only directory.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from engine.privacy.owner_only import FILE_MODE, private_dir, private_file
from engine.store.migrate import upgrade

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5_000
PROBE_TIMEOUT_MS = 200
PG_CONNECT_TIMEOUT_S = 5
_SIDE_FILES = ("-wal", "-shm", "-journal")
_WRITE = "sift_write"

# A SQLite file (the default, in the data directory) or a PostgreSQL URL (``SIFT_DATABASE_URL``).
Location = Path | str


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database:
    """One engine (a connection pool) for the stores that share a database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite: our own writers queue here rather than on the file lock, so a readiness probe can tell
        # "busy with our write" from "locked by someone else". PostgreSQL writes run side by side.
        self._lock = threading.Lock()
        self._writer = engine.execution_options(**{_WRITE: True})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction that commits on success and rolls back on any exception."""
        with self._lock if self.is_sqlite else nullcontext(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (SQLite: a deferred transaction, so it takes no write lock)."""
        with self.engine.connect() as conn:
            yield conn

    def write_problem(self) -> str | None:
        """``None`` when a write transaction can start now, else why not (for ``/readyz``); writes nothing.

        SQLite waits at most ``PROBE_TIMEOUT_MS`` for another writer, so a probe never queues behind a long
        write; PostgreSQL must answer and must not be a read-only standby.
        """
        try:
            if not self.is_sqlite:
                return self._postgresql_problem()
            if not self._lock.acquire(timeout=PROBE_TIMEOUT_MS / 1000):
                return None  # a write of ours is running: the store is busy, not broken
            try:
                return self._sqlite_problem()
            finally:
                self._lock.release()
        except (SQLAlchemyError, OSError) as exc:
            return f"the ticket log cannot be written: {exc}"

    def _sqlite_problem(self) -> str | None:
        raw = self.engine.raw_connection()
        try:
            raw.execute(f"PRAGMA busy_timeout={PROBE_TIMEOUT_MS}")
            try:
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("ROLLBACK")
            finally:
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except self.engine.dialect.loaded_dbapi.Error as exc:
            return f"the ticket log cannot be written: {exc}"
        finally:
            raw.close()
        return None

    def _postgresql_problem(self) -> str | None:
        with self.engine.connect() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = {PROBE_TIMEOUT_MS * 5}"))
            if conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                return "the ticket log's PostgreSQL server is read-only (a standby?)"
        return None

    def reclaim(self) -> None:
        """After an erasure: leave no readable copy of deleted rows where the backend lets us.

        SQLite copies the WAL into the file and truncates it (``secure_delete`` already overwrote the rows);
        PostgreSQL's VACUUM makes the dead rows' space reusable (the server's WAL and backups are the
        operator's to expire).
        """
        if self.is_sqlite:
            with self._lock:
                raw = self.engine.raw_connection()  # outside any transaction, which would keep a WAL snapshot
                try:
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    raw.close()
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM tickets, feedback")

    def close(self) -> None:
        self.engine.dispose()


def connect(location: Location) -> Database:
    """The database at ``location`` (a SQLite file or a ``postgresql://`` URL) as it is, not migrated."""
    return Database(_postgresql(location) if isinstance(location, str) else _sqlite(location))


def open_database(location: Location) -> Database:
    """The database at ``location``, its schema brought to this version's (what every store opens)."""
    database = connect(location)
    try:
        upgrade(database)
    except BaseException:
        database.close()
        raise
    return database


def describe(location: Location) -> str:
    """``location`` for messages: a URL without its password."""
    return make_url(location).render_as_string(hide_password=True) if isinstance(location, str) else str(location)


def _sqlite(path: Path) -> Engine:
    """The data directory 0700 and the file (and the -wal/-shm SQLite creates with its mode) 0600."""
    private_dir(path.parent)
    private_file(path)
    for suffix in _SIDE_FILES:
        # Chmod only, never created: SQLite deletes its journal when a transaction ends, maybe in another replica.
        with suppress(FileNotFoundError):
            os.chmod(path.with_name(path.name + suffix), FILE_MODE)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: ours begin below, IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _enable_wal(dbapi_connection)
        for pragma in ("synchronous=NORMAL", "secure_delete=ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch a new file to WAL, waiting out the replicas doing the same.

    The switch needs the file to itself, and SQLite answers "database is locked" at once rather than calling
    the busy handler when another connection is making the same switch, so replicas opening a new database
    together retry here for as long as ``busy_timeout`` would have waited. A file already in WAL mode keeps it.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _postgresql(url: str) -> Engine:
    """A pooled engine on psycopg 3; connections are checked before use, so a restarted server costs no request."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}
    )
