"""API keys: who may call what. Kept beside the ticket log, only as hashes.

A key is shown once, when it is created; the database keeps its SHA-256 (a key is 32 random bytes, so a
plain hash cannot be searched backwards) and an eight-character prefix by which operators tell keys apart in
listings and logs. Revoking keeps the row, so the audit trail says which key did what until when.

A key for a website's help widget sits in the page for anyone to read, so it may hold only the ``suggest``
scope, and it names the sites (origins) whose pages may use it: browsers are answered only from those
(``engine/api/cors.py``), so another site cannot spend the key's budget from its visitors' browsers.

Each key acts for one tenant (``settings.tenants``): every request made with it reaches that tenant's KBs,
heads, policy, ticket log and feedback and nothing else. The keys themselves live in the process's database.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update

from engine.errors import InvalidInput
from engine.settings import DEFAULT_TENANT
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
    origins: tuple[str, ...] = ()
    tenant: str = DEFAULT_TENANT


def normalise_origin(value: str, field: str = "--origin") -> str:
    """``scheme://host[:port]`` in lower case, as a browser sends it in ``Origin``; anything else is refused."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"{value!r} has a bad port") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise InvalidInput(field, f"{value!r} is not an origin like https://shop.example (scheme, host, port only)")
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None and port != default else "")


def _origins(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.split()) if stored else ()


class KeyStore:
    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file (``Settings.database_path``) or a PostgreSQL URL (``Settings.database``)."""
        self._db = open_database(location)

    def create(
        self, name: str, scopes: list[str], origins: list[str] | None = None, tenant: str = DEFAULT_TENANT
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never stored and cannot be shown again.

        ``origins``: the sites whose pages may call with it from a browser; only for a key whose one scope is
        ``suggest`` (any other key would be readable in a page's source). ``tenant``: whom it acts for (the
        caller checks it names a configured tenant).
        """
        if not name.strip():
            raise InvalidInput("--name", "must not be blank")
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidInput("--scope", f"give one or more of {', '.join(SCOPES)}; got {unknown or 'none'}")
        allowed = tuple(sorted({normalise_origin(origin) for origin in origins or []}))
        if allowed and set(scopes) != {"suggest"}:
            raise InvalidInput("--origin", "only a key with the suggest scope alone may be used from web pages")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            uuid.uuid4().hex[:12], name.strip(), secret[:12], tuple(sorted(set(scopes))), utc_now(), origins=allowed,
            tenant=tenant,
        )
        with self._db.write() as db:
            db.execute(
                insert(api_keys).values(
                    id=key.id, name=key.name, prefix=key.prefix, hash=key_hash(secret), scopes=" ".join(key.scopes),
                    created_at=key.created_at, origins=" ".join(allowed) or None, tenant=tenant,
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
                select(c.id, c.name, c.prefix, c.scopes, c.created_at, c.revoked_at, c.origins, c.tenant)
                .order_by(c.created_at, c.id)
            ).all()
        return [ApiKey(i, n, p, tuple(s.split()), c, r, _origins(o), t) for i, n, p, s, c, r, o, t in rows]

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
                select(c.hash, c.id, c.name, c.prefix, c.scopes, c.created_at, c.origins, c.tenant)
                .where(c.revoked_at.is_(None))
            ).all()
        return {h: ApiKey(i, n, p, tuple(s.split()), c, None, _origins(o), t) for h, i, n, p, s, c, o, t in rows}

    def close(self) -> None:
        self._db.close()
