"""API keys: who may call what. Kept beside the ticket log, only as hashes.

A key is shown once, when it is created; the database keeps its SHA-256 (a key is 32 random bytes, so a
plain hash cannot be searched backwards) and an eight-character prefix by which operators tell keys apart in
listings and logs. Revoking keeps the row, so the audit trail says which key did what until when.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import insert, select, update

from engine.errors import InvalidInput
from engine.store.db import Location, open_database, utc_now
from engine.store.schema import api_keys

Scope = Literal["triage", "suggest", "feedback", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
KEY_PREFIX = "sift_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None


class KeyStore:
    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file (``Settings.database_path``) or a PostgreSQL URL (``Settings.database``)."""
        self._db = open_database(location)

    def create(self, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never stored and cannot be shown again."""
        if not name.strip():
            raise InvalidInput("--name", "must not be blank")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidInput("--scope", f"give one or more of {', '.join(SCOPES)}; got {unknown or 'none'}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(uuid.uuid4().hex[:12], name.strip(), secret[:12], tuple(sorted(set(scopes))), utc_now())
        with self._db.write() as db:
            db.execute(
                insert(api_keys).values(
                    id=key.id, name=key.name, prefix=key.prefix, hash=key_hash(secret), scopes=" ".join(key.scopes),
                    created_at=key.created_at,
                )
            )
        return key, secret

    def revoke(self, key_id: str) -> ApiKey:
        c = api_keys.c
        with self._db.write() as db:
            found = db.execute(
                update(api_keys).where(c.id == key_id, c.revoked_at.is_(None)).values(revoked_at=utc_now())
            )
            if found.rowcount == 0:
                raise InvalidInput("KEY_ID", f"no active key {key_id!r} (see `sift keys list`)")
        return next(k for k in self.list() if k.id == key_id)

    def list(self) -> list[ApiKey]:
        c = api_keys.c
        with self._db.read() as db:
            rows = db.execute(
                select(c.id, c.name, c.prefix, c.scopes, c.created_at, c.revoked_at).order_by(c.created_at, c.id)
            ).all()
        return [ApiKey(i, n, p, tuple(s.split()), c, r) for i, n, p, s, c, r in rows]

    def exist(self) -> bool:
        """Whether any key was ever created: from then on every call needs one, even when all are revoked (revoking
        a leaked last key must not open the API)."""
        with self._db.read() as db:
            return db.execute(select(api_keys.c.id).limit(1)).first() is not None

    def active(self) -> dict[str, ApiKey]:
        """Every key that is not revoked, by its hash: what a request's key is looked up in."""
        c = api_keys.c
        with self._db.read() as db:
            rows = db.execute(
                select(c.hash, c.id, c.name, c.prefix, c.scopes, c.created_at).where(c.revoked_at.is_(None))
            ).all()
        return {h: ApiKey(i, n, p, tuple(s.split()), c) for h, i, n, p, s, c in rows}

    def close(self) -> None:
        self._db.close()
