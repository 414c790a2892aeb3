"""The agent console's login session: a signed cookie naming an API key, and the same-origin check.

An agent logs in with one of the service's API keys; the cookie then holds the key's hash and an expiry,
signed with HMAC-SHA256 under a secret that lives only in the data directory (owner-only, made on first use).
Nothing else is kept server-side: the key is looked up by its hash on every request, so a revoked key ends
its sessions within the key cache's refresh time, and deleting the secret file ends every session.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and limited to
``/console``. A state-changing console request must also come from the console's own origin: its ``Origin``
(or ``Sec-Fetch-Site: same-origin``) says so, or, from a browser that sends neither, the page's CSRF token,
an HMAC of the session that only a page served to it can carry.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request

from engine.errors import SiftError
from engine.privacy.owner_only import secret_file

COOKIE = "sift_console"
COOKIE_PATH = "/console"
SESSION_SECONDS = 12 * 3600
SECRET_FILE = "console-session.key"
SECRET_BYTES = 32
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _read_or_create(path: Path) -> bytes:
    """The secret in ``path``, made owner-only on first use (whole or not at all: ``secret_file``)."""
    secret = secret_file(path, SECRET_BYTES)
    if len(secret) != SECRET_BYTES:
        raise SiftError(f"{path} is not a {SECRET_BYTES}-byte secret; delete it (every console session ends)")
    return secret


class SessionSigner:
    """Issues and reads console session cookies under the data directory's secret (read on first use)."""

    def __init__(self, data_dir: Path, lifetime_s: int = SESSION_SECONDS) -> None:
        self._path = data_dir / SECRET_FILE
        self._secret: bytes | None = None
        self.lifetime_s = lifetime_s

    def _sign(self, message: str) -> str:
        if self._secret is None:
            self._secret = _read_or_create(self._path)
        return hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def issue(self, key_hash: str, now: float | None = None) -> str:
        """A cookie value for the key with hash ``key_hash``, valid for ``lifetime_s`` from ``now``."""
        body = f"{key_hash}.{int((now or time.time()) + self.lifetime_s)}"
        return f"{body}.{self._sign(body)}"

    def read(self, value: str | None, now: float | None = None) -> str | None:
        """The key hash a cookie value names, or None when it is malformed, forged or expired."""
        if not value or value.count(".") != 2:
            return None
        key_hash, expires, signature = value.split(".")
        if not hmac.compare_digest(self._sign(f"{key_hash}.{expires}"), signature):
            return None
        if not expires.isdigit() or int(expires) <= (now or time.time()):
            return None
        return key_hash

    def csrf_token(self, cookie: str | None) -> str:
        """The token a console page puts in its forms: bound to the session (or to open mode, without one)."""
        return self._sign(f"csrf:{cookie or 'open'}")[:32]

    def csrf_ok(self, cookie: str | None, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(cookie), str(token))


def same_origin(request: Request) -> bool | None:
    """Whether the browser says the request comes from a page of this server; None when it says nothing.

    ``Origin`` is compared with the ``Host`` the request was sent to (a proxy in front must pass Host on).
    """
    origin = request.headers.get("origin")
    if origin:  # "null" (a sandboxed frame, a redirect across sites) is no origin of ours
        return origin != "null" and urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()
    site = request.headers.get("sec-fetch-site")
    if site:
        return site == "same-origin"
    return None
