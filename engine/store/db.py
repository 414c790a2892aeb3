"""The ticket log's SQLite file: opened owner-only, written only inside transactions that roll back.

A write that fails half-way (a string SQLite cannot encode, a full disk, a locked
file) must leave the connection as it found it: before, one failed ``INSERT``
left a ``BEGIN`` open and every later request failed with "cannot start a
transaction within a transaction" until a restart. Every store writes through
:func:`write` and readiness asks :func:`can_write`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from engine.privacy.owner_only import private_dir, private_file

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5_000
PROBE_TIMEOUT_MS = 200
_SIDE_FILES = ("-wal", "-shm", "-journal")


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """One connection per store, shared by its threads under the store's lock; WAL lets readers run beside a writer.

    The data directory is made 0700 and the file (and SQLite's -wal/-shm beside it, which SQLite creates with
    the database file's mode) 0600: the log holds customers' messages. ``secure_delete`` overwrites what is
    deleted, so a purged or forgotten ticket does not linger in free pages.
    """
    private_dir(path.parent)
    private_file(path)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            private_file(side)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA secure_delete=ON")
    db.executescript(schema)
    return db


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@contextmanager
def write(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``) that commits on success and rolls back on any exception.

    A transaction left open by anything else (it cannot be ours) is rolled back first, so the store heals
    instead of refusing every later write.
    """
    with lock:
        if db.in_transaction:
            log.warning("a transaction was left open on the ticket log; rolling it back")
            db.rollback()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.rollback()
            raise


def can_write(db: sqlite3.Connection, lock: threading.Lock) -> str | None:
    """``None`` when a write transaction can start now, else why not (for ``/readyz``); writes nothing.

    Waits at most ``PROBE_TIMEOUT_MS`` for another writer, so a readiness probe never queues behind a long write.
    """
    if not lock.acquire(timeout=PROBE_TIMEOUT_MS / 1000):
        return None  # a write of ours is running: the store is busy, not broken
    try:
        if db.in_transaction:
            return "a transaction was left open on the ticket log"
        db.execute(f"PRAGMA busy_timeout={PROBE_TIMEOUT_MS}")
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        return f"the ticket log cannot be written: {exc}"
    finally:
        lock.release()
    return None


def checkpoint(db: sqlite3.Connection, lock: threading.Lock) -> None:
    """Copy the WAL into the database file and truncate it, so deleted rows leave no copy in the -wal file."""
    with lock:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
