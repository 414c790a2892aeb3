"""Who is using the console: the key behind the session cookie (or nobody, in open mode), and what it may do.

Pages redirect to the login form when there is no valid session; the JSON API answers 401 instead
(``engine/api/auth.py``). Both read the same cookie through the same ``Authenticator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import Authenticator
from engine.api.session import COOKIE
from engine.errors import InvalidInput
from engine.store.keys import ApiKey

# Keys that may open the console; which of its actions each may take is ``Agent.can``'s.
CONSOLE_SCOPES = ("triage", "feedback", "admin")
FEEDBACK_SCOPES = ("feedback", "admin")
LANGUAGES_COOKIE = "sift_console_languages"
OPEN_AGENT = "local"


@dataclass(frozen=True)
class Agent:
    """The console's user: ``key`` is None in open mode (no key exists; the server listens on loopback only)."""

    key: ApiKey | None
    cookie: str | None

    @property
    def name(self) -> str:
        """Who feedback is recorded as: the key's name (one key per agent or team), ``local`` in open mode."""
        return self.key.name if self.key is not None else OPEN_AGENT

    @property
    def open(self) -> bool:
        return self.key is None

    def can(self, *scopes: str) -> bool:
        return self.key is None or bool(set(scopes) & set(self.key.scopes))


def auth_of(request: Request) -> Authenticator:
    return request.app.state.auth


async def current_agent(request: Request) -> Agent | None:
    """The agent behind the request's session (spending its key's request budget), or None: log in first.

    The budget is a database write (``engine/store/rate_limits.py``): made off the event loop, as the API's.
    """
    auth = auth_of(request)
    if auth.open:
        return Agent(None, None)
    cookie = request.cookies.get(COOKIE)
    key = auth.session_key(cookie)
    if key is None or not set(CONSOLE_SCOPES) & set(key.scopes):
        return None
    await run_in_threadpool(auth.admit, key, CONSOLE_SCOPES)  # type: ignore[arg-type]  # the tuple holds Scopes
    return Agent(key, cookie)


def csrf_token(request: Request, agent: Agent) -> str:
    """The token the agent's pages put in their forms (checked only when the browser names no origin)."""
    sessions = auth_of(request).sessions
    return sessions.csrf_token(agent.cookie) if sessions is not None else ""


async def form_fields(request: Request) -> dict[str, str]:
    """An url-encoded form body as a dict (the last value of a repeated field); another body is refused.

    Parsed here, not by ``request.form()``, which would need python-multipart for two dozen short fields.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidInput("body", f"send the form url-encoded (application/x-www-form-urlencoded); got {kind or 'none'}")
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=100))


def agent_languages(request: Request) -> list[str]:
    """The languages the agent reads: their saved choice, else the browser's (Accept-Language), else English."""
    saved = request.cookies.get(LANGUAGES_COOKIE)
    if saved:
        found = parse_languages(saved)
        if found:
            return found
    header = request.headers.get("accept-language", "")
    codes = [part.split(";")[0].strip().split("-")[0].lower() for part in header.split(",")]
    return list(dict.fromkeys(c for c in codes if c.isalpha() and 2 <= len(c) <= 3)) or ["en"]


def parse_languages(text: str) -> list[str]:
    """ISO 639 codes from a free list ("en, de-AT hr"; the cookie's "en.de"): primary subtags, lower case, each once, at most 20."""
    codes = [part.strip().split("-")[0].lower() for part in text.replace(",", " ").replace(".", " ").split()]
    return list(dict.fromkeys(c for c in codes if c.isalpha() and 2 <= len(c) <= 3))[:20]
