"""Exactly once in the ticket log: the helpdesk's own ticket id, and claims on tickets being triaged.

Two faults would otherwise log a ticket twice or not finish it:

- A client retries a request whose response it never got (a timeout, a restarted server). A ticket sent with
  the helpdesk's id (``external_id``) is stored once per source; a retry finds that row and is answered from
  it: the stored result if processed, else by finishing that same row. A different ticket under an id already
  used is refused (:class:`IdClash`): a keyed hash of what was first sent tells a retry from a clash.
- A process dies mid-pipeline (``kill -9``, OOM, a power cut). Its tickets stay ``accepted``. Every accepted
  row carries a claim (who, and when they last renewed it); a live process renews its claims, so a claim
  older than the lease belongs to a dead process, and any process may take the ticket over. Taking over is
  one ``UPDATE ... WHERE status = 'accepted' AND claim is stale``: SQLite runs writers one at a time, and
  PostgreSQL re-checks that condition on the row a concurrent claimer committed, so exactly one claimer wins.

A result is written only over an ``accepted`` row (``TicketStore.complete``): once processed, a ticket's
result never changes, whoever else finishes it late.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Insert, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.store.db import Database, utc_now
from engine.store.schema import tickets

MAX_ATTEMPTS = 3
"""Claims a ticket gets before recovery gives up on it: one that kills its process every time is marked failed."""

State = Literal["new", "resumed", "processed", "busy"]


def new_owner() -> str:
    """A claimant's name: host and pid say which process, the random part which start of it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ExternalKey:
    """A ticket's idempotency key: its ``external_id`` within ``source``, and the keyed hash of its content."""

    source: str
    external_id: str
    request_hash: str


@dataclass(frozen=True)
class Admitted:
    """Where a ticket stands once admitted: ``new`` (stored now, ours to triage), ``resumed`` (a stored copy,
    unfinished, now ours to triage), ``processed`` (``result`` is the stored one) or ``busy`` (another live
    request or process is triaging the stored copy)."""

    id: str
    state: State
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class Orphan:
    """An accepted ticket a dead process left, now claimed for recovery: what the log kept of it."""

    id: str
    received_at: str
    payload: dict[str, Any]
    customer_key: str | None


@dataclass(frozen=True)
class Stored:
    """A logged ticket's status, its result once processed, and when its claim was last renewed."""

    status: str
    result: dict[str, Any] | None
    claimed_at: str | None

    def takeable(self, stale_before: str) -> bool:
        """Whether a retry may take it over: it failed, or its claimant stopped renewing (died)."""
        return self.status == "failed" or (
            self.status == "accepted" and (self.claimed_at is None or self.claimed_at < stale_before)
        )


class IdClash(Exception):  # noqa: N818 - a clash, not an error of ours: the service names the field
    """``index``'s external id is already in the log with different content (stored as ``ticket_id``)."""

    def __init__(self, index: int, ticket_id: str) -> None:
        super().__init__(f"ticket {index}'s external id is taken by {ticket_id}")
        self.index = index
        self.ticket_id = ticket_id


def _stale(stale_before: str) -> Any:
    c = tickets.c
    return or_(c.claimed_at.is_(None), c.claimed_at < stale_before)


class TicketClaims:
    """The ticket log's idempotency keys and claims; shares its ``Database`` with ``TicketStore``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert(self) -> Insert:
        """INSERT that skips a row whose (source, external_id) is taken, on either backend."""
        dialect = sqlite if self._db.is_sqlite else postgresql
        return dialect.insert(tickets).on_conflict_do_nothing()

    def rows(self, ids: list[str], payloads: list[dict[str, Any]], customer_keys: Sequence[str | None],
             keys: Sequence[ExternalKey | None], owner: str, now: str) -> list[dict[str, Any]]:
        """New ``accepted`` rows, claimed by ``owner`` as of ``now``."""
        return [
            {
                "id": tid, "received_at": now, "channel": p.get("channel"),
                "payload": json.dumps(p, ensure_ascii=False), "status": "accepted", "customer_key": ck,
                "source": k.source if k else None, "external_id": k.external_id if k else None,
                "request_hash": k.request_hash if k else None, "claimed_by": owner, "claimed_at": now, "attempts": 1,
            }
            for tid, p, ck, k in zip(ids, payloads, customer_keys, keys, strict=True)
        ]

    def admit(
        self,
        payloads: list[dict[str, Any]],
        customer_keys: Sequence[str | None],
        keys: Sequence[ExternalKey | None],
        owner: str,
        stale_before: str,
    ) -> list[Admitted]:
        """Store the tickets not in the log yet and find the rest, in one transaction, all or nothing.

        A keyed ticket already stored is ``processed`` (its result), ``resumed`` when its copy was left
        unfinished (failed, or accepted with a claim older than ``stale_before``) and is now claimed by
        ``owner``, else ``busy``. Raises :class:`IdClash`, storing nothing, when a stored copy's content differs.
        """
        ids = [uuid.uuid4().hex for _ in payloads]
        now = utc_now()
        rows = self.rows(ids, payloads, customer_keys, keys, owner, now)
        if not rows:
            return []
        with self._db.write() as db:
            if any(keys):
                db.execute(self._insert(), rows)
            else:
                db.execute(insert(tickets), rows)
            stored = self._stored(db, keys)
            out = []
            for index, (tid, key) in enumerate(zip(ids, keys, strict=True)):
                row = stored.get((key.source, key.external_id)) if key else None
                if row is None or row.id == tid:
                    out.append(Admitted(tid, "new"))
                elif row.request_hash != key.request_hash:  # type: ignore[union-attr]
                    raise IdClash(index, row.id)
                elif row.status == "processed":
                    out.append(Admitted(row.id, "processed", json.loads(row.result)))
                else:
                    out.append(Admitted(row.id, "resumed" if self._take(db, row.id, owner, stale_before) else "busy"))
        return out

    @staticmethod
    def _stored(db: Any, keys: Sequence[ExternalKey | None]) -> dict[str, Any]:
        """The stored rows of the keyed tickets, by (source, external id)."""
        given = [k for k in keys if k]
        if not given:
            return {}
        c = tickets.c
        query = select(c.id, c.source, c.external_id, c.request_hash, c.status, c.result).where(
            c.source.in_({k.source for k in given}), c.external_id.in_([k.external_id for k in given])
        )
        return {(row.source, row.external_id): row for row in db.execute(query)}

    @staticmethod
    def _take(db: Any, ticket_id: str, owner: str, stale_before: str) -> bool:
        """Claim one unfinished ticket for ``owner`` if it is failed or its claim is stale; whether it was."""
        c = tickets.c
        statement = (
            update(tickets)
            .where(c.id == ticket_id, or_(c.status == "failed", and_(c.status == "accepted", _stale(stale_before))))
            .values(status="accepted", claimed_by=owner, claimed_at=utc_now(), attempts=c.attempts + 1,
                    error=None, processed_at=None)
        )
        return bool(db.execute(statement).rowcount)

    def take_over(self, ticket_id: str, owner: str, stale_before: str) -> bool:
        """Claim one ticket another request left unfinished (failed, or a dead claimant's); whether ``owner`` got it."""
        with self._db.write() as db:
            return self._take(db, ticket_id, owner, stale_before)

    def states(self, ids: list[str]) -> dict[str, Stored]:
        """Where each ticket stands in the log (a ticket erased meanwhile is missing)."""
        c = tickets.c
        with self._db.read() as db:
            rows = db.execute(select(c.id, c.status, c.result, c.claimed_at).where(c.id.in_(ids))).all()
        return {r.id: Stored(r.status, json.loads(r.result) if r.result else None, r.claimed_at) for r in rows}

    def renew(self, owner: str) -> int:
        """Say ``owner`` is alive: its accepted tickets' claims start again; how many it holds."""
        c = tickets.c
        statement = update(tickets).where(c.status == "accepted", c.claimed_by == owner).values(claimed_at=utc_now())
        with self._db.write() as db:
            return int(db.execute(statement).rowcount)

    def claim_orphans(self, owner: str, stale_before: str, limit: int) -> tuple[list[Orphan], int]:
        """Claim up to ``limit`` accepted tickets whose claim went stale, oldest first; and how many were given up.

        A ticket claimed ``MAX_ATTEMPTS`` times already is marked failed instead: its process died each time.
        The claim's own WHERE repeats the subquery's condition, so on PostgreSQL a claimer that waited for a
        concurrent one's row lock re-checks it against the committed row and skips what the other took.
        """
        c = tickets.c
        now = utc_now()
        give_up = (
            update(tickets)
            .where(c.status == "accepted", _stale(stale_before), c.attempts >= MAX_ATTEMPTS)
            .values(status="failed", processed_at=now,
                    error=f"abandoned: the process triaging it stopped {MAX_ATTEMPTS} times (see the server log)")
        )
        oldest = (
            select(c.id).where(c.status == "accepted", _stale(stale_before))
            .order_by(c.received_at).limit(limit).scalar_subquery()
        )
        claim = (
            update(tickets)
            .where(c.id.in_(oldest), c.status == "accepted", _stale(stale_before))
            .values(claimed_by=owner, claimed_at=now, attempts=c.attempts + 1)
            .returning(c.id, c.received_at, c.payload, c.customer_key)
        )
        with self._db.write() as db:
            abandoned = int(db.execute(give_up).rowcount)
            rows = db.execute(claim).all()
        orphans = [Orphan(r.id, r.received_at, json.loads(r.payload), r.customer_key) for r in rows]
        return sorted(orphans, key=lambda o: o.received_at), abandoned

    def lookup(self, source: str, external_id: str) -> str | None:
        """The ticket id stored under ``external_id`` for ``source``, if any."""
        c = tickets.c
        with self._db.read() as db:
            return db.execute(select(c.id).where(c.source == source, c.external_id == external_id)).scalar()
