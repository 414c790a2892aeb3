"""Who may call what: API keys with scopes, and a request budget per key.

With no key ever created the API is open, which is safe only on the loopback interface (``sift serve``
refuses any other address then). Once a key exists every endpoint but the health checks and metrics wants one
(still after the last is revoked: revoking a leaked key must not open the API), in
``Authorization: Bearer <key>`` or ``X-API-Key``. Each key's request budget is kept in the database
(``engine/store/rate_limits.py``), so it holds across workers and replicas. Keys are looked up by hash in a copy refreshed every few
seconds, so a key revoked by `sift keys revoke` stops working on every worker within that time without a
database read per request.

The agent console (``/console``) authenticates with the same keys: its login sets a signed session cookie
(``engine/api/session.py``) naming a key by its hash, which ``caller`` accepts wherever no key header is sent;
the key's scopes, revocation and request budget apply as to the key itself. A state-changing request made
with the cookie must come from the console's own origin.

The key also says which tenant the request acts for (``caller_tenant``); in open mode that is the default one.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from engine.api.session import COOKIE, UNSAFE_METHODS, SessionSigner, same_origin
from engine.errors import Forbidden, RateLimited, Unauthorized
from engine.settings import DEFAULT_TENANT
from engine.store.keys import ApiKey, KeyStore, Scope, key_hash
from engine.store.rate_limits import RateLimits

REFRESH_SECONDS = 5.0


class Authenticator:
    def __init__(
        self, store: KeyStore, per_minute: int, sessions: SessionSigner | None = None,
        budgets: RateLimits | None = None,
    ) -> None:
        """``per_minute``: each key's request budget (0: unlimited), counted in ``budgets`` (shared by every
        worker and replica); ``sessions``: the console's cookies (None: no console sessions are accepted)."""
        self._store = store
        self._budgets = budgets
        self.sessions = sessions
        self._per_minute = per_minute
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._required = False
        self._read_at = -math.inf

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
        if self._budgets is not None:
            self._budgets.close()

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
        return self.admit(key, scopes)

    def session_key(self, cookie: str | None) -> ApiKey | None:
        """The active key a console session cookie names; None when there is no valid session (malformed, forged,
        expired) or its key was revoked since."""
        if self.sessions is None:
            return None
        hashed = self.sessions.read(cookie)
        return self.keys().get(hashed) if hashed else None

    def caller(self, request: Request, scopes: tuple[Scope, ...]) -> ApiKey | None:
        """The key a request acts with: its key header, else its console session cookie; None in open mode.

        With the cookie, a state-changing request must come from this server's own pages (``same_origin``),
        or carry the page's CSRF token in ``X-CSRF-Token``.
        """
        secret = secret_of(request)
        cookie = request.cookies.get(COOKIE)
        if secret or not cookie or self.open:
            return self.check(secret, scopes)
        key = self.session_key(cookie)
        if key is None:
            raise Unauthorized("the console session has expired or its key was revoked: log in again")
        if request.method in UNSAFE_METHODS and not self.csrf_ok(request, request.headers.get("x-csrf-token")):
            raise Forbidden("a console request that changes data must come from the console's own pages")
        return self.admit(key, scopes)

    def csrf_ok(self, request: Request, token: str | None) -> bool:
        """Whether a state-changing browser request is the console's own: same origin, or its page's token."""
        verdict = same_origin(request)
        if verdict is not None:
            return verdict
        return self.sessions is not None and self.sessions.csrf_ok(request.cookies.get(COOKIE), token)

    def admit(self, key: ApiKey, scopes: tuple[Scope, ...]) -> ApiKey:
        """``key`` if it holds one of ``scopes`` and has budget left now; Forbidden or RateLimited otherwise."""
        if not set(scopes) & set(key.scopes):
            wanted = " or ".join(repr(s) for s in scopes)
            raise Forbidden(f"the key {key.prefix}… ({key.name}) lacks the scope {wanted}; it has {', '.join(key.scopes)}")
        if self._per_minute and self._budgets is not None:
            wait = self._budgets.take(key.id, self._per_minute)
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
        # With keys, admission writes the key's budget to the database: off the event loop, which a write waiting
        # for the database's lock would otherwise stop for every request.
        key = None if authenticator.open else await run_in_threadpool(authenticator.caller, request, scopes)
        request.state.tenant = key.tenant if key else DEFAULT_TENANT
        return key

    return dependency


def caller_tenant(request: Request) -> str:
    """The tenant a request acts for: its key's (header or console session), the default one without a key.

    ``require`` has usually found it already; a page that needs no key (the help centre) acts for the default
    tenant unless it names one.
    """
    tenant: str | None = getattr(request.state, "tenant", None)
    if tenant is not None:
        return tenant
    authenticator: Authenticator = request.app.state.auth
    key = authenticator.lookup(secret_of(request)) or authenticator.session_key(request.cookies.get(COOKIE))
    return key.tenant if key else DEFAULT_TENANT
