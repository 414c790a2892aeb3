"""Who may call what: API keys with scopes, and a request budget per key.

With no key ever created the API is open, which is safe only on the loopback interface (``sift serve``
refuses any other address then). Once a key exists every endpoint but the health checks and metrics wants one
(still after the last is revoked: revoking a leaked key must not open the API), in
``Authorization: Bearer <key>`` or ``X-API-Key``. Keys are looked up by hash in a copy refreshed every few
seconds, so a key revoked by `sift keys revoke` stops working on every worker within that time without a
database read per request.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from engine.errors import Forbidden, RateLimited, Unauthorized
from engine.store.keys import ApiKey, KeyStore, Scope, key_hash

REFRESH_SECONDS = 5.0


class TokenBucket:
    """``per_minute`` requests a minute, in bursts of up to as many."""

    def __init__(self, per_minute: int) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._tokens = float(per_minute)
        self._at = time.monotonic()

    def take(self) -> float:
        """0 when the request may go, else the seconds until it may."""
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class Authenticator:
    def __init__(self, store: KeyStore, per_minute: int) -> None:
        """``per_minute``: each key's request budget (0: unlimited)."""
        self._store = store
        self._per_minute = per_minute
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._required = False
        self._read_at = -math.inf
        self._buckets: dict[str, TokenBucket] = {}

    def keys(self) -> dict[str, ApiKey]:
        """The active keys by hash, re-read at most every ``REFRESH_SECONDS``."""
        with self._lock:
            if time.monotonic() - self._read_at >= REFRESH_SECONDS:
                self._required = self._store.exist()
                self._keys = self._store.active()
                self._read_at = time.monotonic()
            return self._keys

    def close(self) -> None:
        self._store.close()

    @property
    def open(self) -> bool:
        """No key was ever created: every caller is let in (the server is bound to loopback then)."""
        self.keys()  # refreshes _required with the keys
        return not self._required

    def lookup(self, secret: str | None) -> ApiKey | None:
        """The active key ``secret`` names, if any; checks no scope and spends no budget."""
        return self.keys().get(key_hash(secret)) if secret else None

    def check(self, secret: str | None, scopes: tuple[Scope, ...]) -> ApiKey | None:
        """The caller's key if it holds one of ``scopes`` and may call now; None in open mode."""
        keys = self.keys()
        if not self._required:
            return None
        if not secret:
            raise Unauthorized("an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")
        key = keys.get(key_hash(secret))
        if key is None:
            raise Unauthorized("the API key is unknown or revoked")
        if not set(scopes) & set(key.scopes):
            wanted = " or ".join(repr(s) for s in scopes)
            raise Forbidden(f"the key {key.prefix}… ({key.name}) lacks the scope {wanted}; it has {', '.join(key.scopes)}")
        if self._per_minute:
            with self._lock:
                bucket = self._buckets.setdefault(key.id, TokenBucket(self._per_minute))
                wait = bucket.take()
            if wait:
                raise RateLimited(f"the key {key.prefix}… used its {self._per_minute} requests a minute", math.ceil(wait))
        return key


def secret_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def require(*scopes: Scope) -> Callable[[Request], Coroutine[Any, Any, ApiKey | None]]:
    """A dependency that lets the request through only with a key holding one of ``scopes`` (or in open mode)."""

    async def dependency(request: Request) -> ApiKey | None:
        authenticator: Authenticator = request.app.state.auth
        return authenticator.check(secret_of(request), scopes)

    return dependency
