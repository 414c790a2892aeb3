"""The ticket log: every accepted ticket is written before it is processed.

If the process dies mid-pipeline the ticket is still there with status
``accepted``, so nothing a customer sent is lost; the result is written before
the response goes out. SQLite in WAL mode lets readers work while one writer
appends.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
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
    error TEXT
);
CREATE INDEX IF NOT EXISTS tickets_received ON tickets (received_at);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status);
"""


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """One connection per store, shared by its threads under the store's lock; WAL lets readers run beside a writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema)
    return db


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class TicketStore:
    def __init__(self, path: Path) -> None:
        self._db = connect(path, SCHEMA)
        self._lock = threading.Lock()

    def accept(self, payloads: list[dict[str, Any]]) -> list[str]:
        """Persist tickets as received and return their new ids, all in one transaction."""
        ids = [uuid.uuid4().hex for _ in payloads]
        now = utc_now()
        rows = [
            (tid, now, p.get("channel"), json.dumps(p, ensure_ascii=False), "accepted")
            for tid, p in zip(ids, payloads, strict=True)
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO tickets (id, received_at, channel, payload, status) VALUES (?, ?, ?, ?, ?)", rows
            )
            self._db.execute("COMMIT")
        return ids

    def complete(self, results: list[tuple[str, dict[str, Any]]]) -> None:
        now = utc_now()
        rows = [
            (
                json.dumps(r, ensure_ascii=False),
                r.get("route", {}).get("queue"),
                int(bool(r.get("handoff", {}).get("required"))),
                now,
                tid,
            )
            for tid, r in results
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "UPDATE tickets SET status='processed', result=?, queue=?, handoff=?, processed_at=? WHERE id=?", rows
            )
            self._db.execute("COMMIT")

    def fail(self, ids: list[str], error: str) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE tickets SET status='failed', error=?, processed_at=? WHERE id=?",
                [(error, utc_now(), tid) for tid in ids],
            )

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, received_at, channel, payload, status, result, error FROM tickets WHERE id=?", (ticket_id,)
            ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "received_at": row[1],
            "channel": row[2],
            "payload": json.loads(row[3]),
            "status": row[4],
            "result": json.loads(row[5]) if row[5] else None,
            "error": row[6],
        }

    def processed(self, since: str | None = None) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(id, received_at, payload, result) of every processed ticket received at or after ``since`` (ISO)."""
        query = "SELECT id, received_at, payload, result FROM tickets WHERE status='processed'"
        params: tuple[str, ...] = ()
        if since is not None:
            query += " AND received_at >= ?"
            params = (since,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY received_at", params).fetchall()
        return [(r[0], r[1], json.loads(r[2]), json.loads(r[3])) for r in rows]

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                return int(self._db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM tickets WHERE status=?", (status,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
