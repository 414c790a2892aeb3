"""The service's side of exactly once: a ticket's idempotency key, a stored result read back, a logged ticket rebuilt.

A retry is recognised by the helpdesk's id (``Ticket.external_id``, or the ``Idempotency-Key`` header of a
single triage) within a source: the API key's name, so two helpdesks behind one Sift may both number their
tickets from 1, and a key rotated under the same name keeps its tickets' ids. Whether a retry carries the same
ticket is decided by an HMAC of everything sent under that id (the data directory's key, as for customer
ids), so the log keeps no hash of a short message anyone could reverse by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from engine.errors import InvalidInput
from engine.privacy.redact import CUSTOMER_NAME
from engine.result_shape import to_jsonable
from engine.store.claims import ExternalKey, Orphan
from engine.types import Ticket, TriageResult

NO_SOURCE = ""
"""The source of tickets sent without an API key (an open API, the CLI)."""


def request_hash(ticket: Ticket, key: bytes) -> str:
    """HMAC-SHA256 of the ticket as sent, its external id left out, over JSON with sorted keys."""
    body = json.dumps(to_jsonable(ticket, exclude={"external_id"}), sort_keys=True, ensure_ascii=False)
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def external_key(ticket: Ticket, source: str, key: bytes) -> ExternalKey | None:
    """The ticket's idempotency key, or None when it carries no external id (it is then stored every time)."""
    if ticket.external_id is None:
        return None
    return ExternalKey(source, ticket.external_id, request_hash(ticket, key))


@cache
def _results() -> TypeAdapter[TriageResult]:
    return TypeAdapter(TriageResult)


def stored_triage(result: dict[str, Any]) -> TriageResult:
    """A result as the log keeps it, for a retry's answer: personal data masked as stored, the name too.

    An article's body is internal (never in the JSON, so not stored); its snippet stands in for it.
    """
    articles = [{"body": a.get("snippet", ""), **a} for a in result.get("articles", ())]
    return _results().validate_python({**result, "articles": articles})


@cache
def _tickets() -> TypeAdapter[Ticket]:
    return TypeAdapter(Ticket)


def logged_ticket(orphan: Orphan) -> Ticket:
    """The ticket recovery triages: the log's masked copy, received when the log says.

    The customer's name is stored only as ``[CUSTOMER_NAME]``: left out, so the draft greets without a name
    rather than with the placeholder.
    """
    payload = dict(orphan.payload)
    if payload.get("customer_name") == CUSTOMER_NAME:
        payload["customer_name"] = None
    if payload.get("received_at") is None:
        payload["received_at"] = datetime.fromisoformat(orphan.received_at)
    return _tickets().validate_python(payload)


def refuse_repeated_ids(tickets: list[Ticket], prefixes: list[str]) -> None:
    """One request may not carry an external id twice: which of the two would the log keep?"""
    seen: dict[str, int] = {}
    for i, ticket in enumerate(tickets):
        if ticket.external_id is None:
            continue
        if ticket.external_id in seen:
            first = prefixes[seen[ticket.external_id]] or "ticket "
            raise InvalidInput(f"{prefixes[i]}external_id", f"repeats {first}external_id; each ticket needs its own")
        seen[ticket.external_id] = i
