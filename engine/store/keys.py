"""API keys: who may call what. Kept beside the ticket log, only as hashes.

A key is shown once, when it is created; the database keeps its SHA-256 (a key is 32 random bytes, so a
plain hash cannot be searched backwards) and an eight-character prefix by which operators tell keys apart in
listings and logs. Revoking keeps the row, so the audit trail says which key did what until when.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from engine.errors import InvalidInput
from engine.store.db import connect, utc_now, write

Scope = Literal["triage", "suggest", "feedback", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
KEY_PREFIX = "sift_"
SCHEMA = """
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
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = connect(path, SCHEMA)

    def create(self, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never stored and cannot be shown again."""
        if not name.strip():
            raise InvalidInput("--name", "must not be blank")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidInput("--scope", f"give one or more of {', '.join(SCOPES)}; got {unknown or 'none'}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(uuid.uuid4().hex[:12], name.strip(), secret[:12], tuple(sorted(set(scopes))), utc_now())
        with write(self._db, self._lock) as db:
            db.execute(
                "INSERT INTO api_keys (id, name, prefix, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (key.id, key.name, key.prefix, key_hash(secret), " ".join(key.scopes), key.created_at),
            )
        return key, secret

    def revoke(self, key_id: str) -> ApiKey:
        with write(self._db, self._lock) as db:
            found = db.execute("UPDATE api_keys SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (utc_now(), key_id))
            if found.rowcount == 0:
                raise InvalidInput("KEY_ID", f"no active key {key_id!r} (see `sift keys list`)")
        return next(k for k in self.list() if k.id == key_id)

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, prefix, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at"
            ).fetchall()
        return [ApiKey(i, n, p, tuple(s.split()), c, r) for i, n, p, s, c, r in rows]

    def exist(self) -> bool:
        """Whether any key was ever created: from then on every call needs one, even when all are revoked (revoking
        a leaked last key must not open the API)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def active(self) -> dict[str, ApiKey]:
        """Every key that is not revoked, by its hash: what a request's key is looked up in."""
        with self._lock:
            rows = self._db.execute(
                "SELECT hash, id, name, prefix, scopes, created_at FROM api_keys WHERE revoked_at IS NULL"
            ).fetchall()
        return {h: ApiKey(i, n, p, tuple(s.split()), c) for h, i, n, p, s, c in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
