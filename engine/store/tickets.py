"""The ticket log: every accepted ticket is written before it is processed.

If the process dies mid-pipeline the ticket is still there with status
``accepted``, so nothing a customer sent is lost, and a restarted process (or
another replica) finishes it (``claims.py``, ``engine/recovery.py``); the result
is written before the response goes out. Each write commits before its method returns, on SQLite
(WAL: readers work while one writer appends) and on PostgreSQL alike. What is
stored is already masked (``engine/privacy/redact.py``); the customer id only
as a keyed hash, indexed, so `sift forget` finds a customer's rows.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from engine.privacy.pii import redact
from engine.stage import EarlierContact
from engine.store.claims import TicketClaims, new_owner
from engine.store.db import Location, open_database, utc_now
from engine.store.schema import tickets


class TicketStore:
    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file (``Settings.database_path``) or a PostgreSQL URL (``Settings.database``)."""
        self._db = open_database(location)
        self.claims = TicketClaims(self._db)
        self.owner = new_owner()

    def accept(self, payloads: list[dict[str, Any]], customer_keys: list[str | None] | None = None) -> list[str]:
        """Persist tickets as received (already masked) and return their new ids, all in one transaction.

        Each is claimed by this store's owner (no external id: ``claims.admit`` stores those), so recovery
        leaves it alone while this process lives.
        """
        ids = [uuid.uuid4().hex for _ in payloads]
        keys = customer_keys or [None] * len(payloads)
        rows = self.claims.rows(ids, payloads, keys, [None] * len(payloads), self.owner, utc_now())
        if rows:
            with self._db.write() as db:
                db.execute(insert(tickets), rows)
        return ids

    def complete(self, results: list[tuple[str, dict[str, Any]]]) -> int:
        """Store results over tickets still ``accepted``; how many were written.

        A processed ticket's result never changes: a late second finisher (a claim taken over from a process
        that was only frozen) writes nothing, and its caller reads the stored result instead.
        """
        now = utc_now()
        rows = [
            {
                "tid": tid,
                "new_result": json.dumps(r, ensure_ascii=False),
                "new_queue": r.get("route", {}).get("queue"),
                "new_handoff": int(bool(r.get("handoff", {}).get("required"))),
                "now": now,
            }
            for tid, r in results
        ]
        statement = (
            update(tickets)
            .where(tickets.c.id == bindparam("tid"), tickets.c.status == "accepted")
            .values(
                status="processed", result=bindparam("new_result"), queue=bindparam("new_queue"),
                handoff=bindparam("new_handoff"), processed_at=bindparam("now"),
            )
        )
        if not rows:
            return 0
        with self._db.write() as db:
            return int(db.execute(statement, rows).rowcount)

    def fail(self, ids: list[str], error: str) -> None:
        """Mark tickets still ``accepted`` failed; the error text is masked (an exception may quote the ticket)."""
        statement = (
            update(tickets)
            .where(tickets.c.id.in_(ids), tickets.c.status == "accepted")
            .values(status="failed", error=redact(error), processed_at=utc_now())
        )
        with self._db.write() as db:
            db.execute(statement)

    def write_problem(self) -> str | None:
        """``None`` when this store can write now, else why not (``/readyz``)."""
        return self._db.write_problem()

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        c = tickets.c
        with self._db.read() as db:
            row = db.execute(
                select(c.id, c.received_at, c.channel, c.payload, c.status, c.result, c.error, c.external_id,
                       c.processed_at, c.attempts).where(c.id == ticket_id)
            ).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "received_at": row.received_at,
            "channel": row.channel,
            "payload": json.loads(row.payload),
            "status": row.status,
            "result": json.loads(row.result) if row.result else None,
            "error": row.error,
            "external_id": row.external_id,
            "processed_at": row.processed_at,
            "attempts": row.attempts,
        }

    def processed(self, since: str | None = None) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(id, received_at, payload, result) of every processed ticket received at or after ``since`` (ISO)."""
        c = tickets.c
        query = select(c.id, c.received_at, c.payload, c.result).where(c.status == "processed")
        if since is not None:
            query = query.where(c.received_at >= since)
        with self._db.read() as db:
            rows = db.execute(query.order_by(c.received_at)).all()
        return [(r.id, r.received_at, json.loads(r.payload), json.loads(r.result)) for r in rows]

    def earlier_contacts(self, customer_keys: list[str], since: str) -> dict[str, list[EarlierContact]]:
        """Each customer's processed tickets received at or after ``since`` (ISO), with the topic triage gave them.

        Read before the new tickets are accepted, so a ticket never counts as its own earlier contact.
        """
        wanted = sorted(set(customer_keys))
        if not wanted:
            return {}
        c = tickets.c
        query = (
            select(c.id, c.received_at, c.customer_key, c.result)
            .where(c.status == "processed", c.customer_key.in_(wanted), c.received_at >= since)
            .order_by(c.received_at)
        )
        with self._db.read() as db:
            rows = db.execute(query).all()
        found: dict[str, list[EarlierContact]] = {}
        for row in rows:
            topic = (json.loads(row.result).get("topic") or {}).get("label") if row.result else None
            found.setdefault(row.customer_key, []).append(EarlierContact(row.id, row.received_at, topic))
        return found

    def count(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(tickets)
        if status is not None:
            query = query.where(tickets.c.status == status)
        with self._db.read() as db:
            return int(db.execute(query).scalar_one())

    def close(self) -> None:
        self._db.close()
