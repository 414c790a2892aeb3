"""The ticket log: every accepted ticket is written before it is processed.

If the process dies mid-pipeline the ticket is still there with status
``accepted``, so nothing a customer sent is lost; the result is written before
the response goes out. SQLite in WAL mode lets readers work while one writer
appends. What is stored is already masked (``engine/privacy/redact.py``); the
customer id only as a keyed hash, indexed, so `sift forget` finds a customer's rows.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

from engine.privacy.pii import redact
from engine.stage import EarlierContact
from engine.store.db import can_write, connect, utc_now, write

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
    error TEXT,
    customer_key TEXT
);
CREATE INDEX IF NOT EXISTS tickets_received ON tickets (received_at);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status);
"""
# Databases made before customer ids existed gain the column; the index is made once the column exists.
MIGRATIONS = (("customer_key", "ALTER TABLE tickets ADD COLUMN customer_key TEXT"),)
INDEXES = "CREATE INDEX IF NOT EXISTS tickets_customer ON tickets (customer_key) WHERE customer_key IS NOT NULL;"


def migrate(db: Any) -> None:
    """Bring an older ticket log's table up to this version's columns and indexes."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(tickets)")}
    for column, statement in MIGRATIONS:
        if column not in columns:
            db.execute(statement)
    db.executescript(INDEXES)


class TicketStore:
    def __init__(self, path: Path) -> None:
        self._db = connect(path, SCHEMA)
        migrate(self._db)
        self._lock = threading.Lock()

    def accept(self, payloads: list[dict[str, Any]], customer_keys: list[str | None] | None = None) -> list[str]:
        """Persist tickets as received (already masked) and return their new ids, all in one transaction."""
        ids = [uuid.uuid4().hex for _ in payloads]
        keys = customer_keys or [None] * len(payloads)
        now = utc_now()
        rows = [
            (tid, now, p.get("channel"), json.dumps(p, ensure_ascii=False), "accepted", key)
            for tid, p, key in zip(ids, payloads, keys, strict=True)
        ]
        with write(self._db, self._lock) as db:
            db.executemany(
                "INSERT INTO tickets (id, received_at, channel, payload, status, customer_key) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
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
        with write(self._db, self._lock) as db:
            db.executemany(
                "UPDATE tickets SET status='processed', result=?, queue=?, handoff=?, processed_at=? WHERE id=?", rows
            )

    def fail(self, ids: list[str], error: str) -> None:
        """Mark tickets failed; the error text is masked (an exception may quote the ticket)."""
        with write(self._db, self._lock) as db:
            db.executemany(
                "UPDATE tickets SET status='failed', error=?, processed_at=? WHERE id=?",
                [(redact(error), utc_now(), tid) for tid in ids],
            )

    def write_problem(self) -> str | None:
        """``None`` when this store can write now, else why not (``/readyz``)."""
        return can_write(self._db, self._lock)

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

    def earlier_contacts(self, customer_keys: list[str], since: str) -> dict[str, list[EarlierContact]]:
        """Each customer's processed tickets received at or after ``since`` (ISO), with the topic triage gave them.

        Read before the new tickets are accepted, so a ticket never counts as its own earlier contact.
        """
        wanted = sorted(set(customer_keys))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_at, customer_key, result FROM tickets WHERE status='processed' "
                f"AND customer_key IN ({marks}) AND received_at >= ? ORDER BY received_at",
                (*wanted, since),
            ).fetchall()
        found: dict[str, list[EarlierContact]] = {}
        for tid, received_at, key, result in rows:
            topic = (json.loads(result).get("topic") or {}).get("label") if result else None
            found.setdefault(key, []).append(EarlierContact(tid, received_at, topic))
        return found

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                return int(self._db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
            return int(self._db.execute("SELECT COUNT(*) FROM tickets WHERE status=?", (status,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
