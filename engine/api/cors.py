"""CORS for the customer-facing article endpoints, per key: a help widget's key names the sites it serves.

A browser marks a cross-site call with ``Origin`` and, because the widget sends its key in a header, asks first
with a preflight ``OPTIONS`` that carries no key. So a preflight is granted to an origin that any active
suggest key lists, and the call itself only when the key it carries lists that origin; a call from any other
origin gets a 403 naming ``Origin`` and no CORS headers, so that page can neither spend the key's budget
unnoticed nor read the answer. Calls without ``Origin`` (servers, curl) are not browser calls and pass as before.
Every answer on these paths says ``Vary: Origin``, so a cache never hands one site's answer to another.

The widget's own calls (``/v1/widget/``: tickets and events, which it POSTs as JSON) follow the same rule. A
page of Sift's own origin (``/widget``, ``/help``) is no cross-site caller: its calls pass as a server's would.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.auth import Authenticator
from engine.errors import InvalidInput
from engine.store.keys import normalise_origin

PATH_PREFIXES = ("/v1/articles/", "/v1/widget/")
ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, X-API-Key, Content-Type"
PREFLIGHT_MAX_AGE_S = 600


def _secret(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key") or None


def _origin(raw: str) -> str | None:
    """The origin as keys store it; None for what no key can list (``null``, a malformed value)."""
    try:
        return normalise_origin(raw, "Origin")
    except InvalidInput:
        return None


def _same_origin(raw: str, scope: Scope, headers: Headers) -> bool:
    """Whether the call comes from a page Sift served itself (its ``Origin`` is the ``Host`` it was sent to)."""
    host = headers.get("host")
    return host is not None and raw.lower() == f"{scope.get('scheme', 'http')}://{host}".lower()


async def _forbidden(send: Send, origin: str) -> None:
    message = f"Origin: {origin!r} is not an origin this key may be used from"
    body = json.dumps({"error": {"code": "origin_not_allowed", "field": "Origin", "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SuggestCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PATH_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        raw = headers.get("origin")
        auth: Authenticator = scope["app"].state.auth
        if raw is None or _same_origin(raw, scope, headers):
            await self.app(scope, receive, self._vary(send, None))
            return
        origin = _origin(raw)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            if origin is None or origin not in self._listed(auth):
                await _forbidden(send, raw)
                return
            await self._preflight(send, raw)
            return
        key = auth.lookup(_secret(headers))
        if key is None and not auth.open:
            await self.app(scope, receive, self._vary(send, None))  # no valid key: the route answers 401
            return
        if key is None or origin is None or origin not in key.origins:
            await _forbidden(send, raw)
            return
        await self.app(scope, receive, self._vary(send, raw))

    @staticmethod
    def _listed(auth: Authenticator) -> set[str]:
        return {o for key in auth.keys().values() if "suggest" in key.scopes for o in key.origins}

    @staticmethod
    async def _preflight(send: Send, origin: str) -> None:
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", str(PREFLIGHT_MAX_AGE_S).encode()),
            (b"vary", b"Origin"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _vary(send: Send, allow: str | None) -> Send:
        """``send`` adding ``Vary: Origin`` and, for an allowed origin, ``Access-Control-Allow-Origin`` to the answer."""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if allow is not None:
                    response_headers["Access-Control-Allow-Origin"] = allow
            await send(message)

        return wrapped
