"""What is stored of a ticket: its personal data replaced by placeholders before the first write.

The ticket log, the feedback export, the gap report and `sift triage-file` all
read what is stored, so masking once at the door covers them all; nothing in
clear is ever written, so nothing in clear can linger in SQLite's free pages or
WAL. A card number or IBAN keeps its last digits (``pii_keep_last_digits``)
because agents ask "the card ending 1234?"; everything else keeps only its kind.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from engine.privacy.pii import find_pii, redact
from engine.result_shape import to_jsonable
from engine.types import Span, Ticket, TriageResult

LAST_DIGITS_LABELS = frozenset({"CARD_NUMBER", "IBAN"})
CUSTOMER_NAME = "[CUSTOMER_NAME]"


def placeholder(span: Span, keep_last_digits: int) -> str:
    """``[EMAIL]``, or ``[CARD_NUMBER ****1234]`` for a card or IBAN when last digits are kept."""
    if keep_last_digits and span.label in LAST_DIGITS_LABELS:
        tail = re.sub(r"[^0-9A-Za-z]", "", span.text)[-keep_last_digits:]
        return f"[{span.label} ****{tail}]"
    return f"[{span.label}]"


def redact_text(text: str, keep_last_digits: int, names: tuple[str, ...] = ()) -> str:
    """``text`` with every PII span, and every occurrence of the given names, replaced by placeholders."""
    cleaned = redact(text, mark=lambda span: placeholder(span, keep_last_digits))
    for name in names:
        cleaned = re.sub(rf"\b{re.escape(name)}\b", CUSTOMER_NAME, cleaned, flags=re.IGNORECASE)
    return cleaned


def _names(customer_name: str | None) -> tuple[str, ...]:
    """The customer's name and its parts (3+ letters), longest first, to take out of the free text too."""
    name = (customer_name or "").strip()
    if not name:
        return ()
    # "Mustermann, Erika" is greeted as "Erika" or "Frau Mustermann": its parts without the comma.
    parts = {name, *(p.strip(",.") for p in name.split() if len(p.strip(",.")) >= 3)}
    return tuple(sorted(parts, key=len, reverse=True))


def redact_json(value: Any, keep_last_digits: int) -> Any:
    """A JSON value with every string in it, keys too, masked: for reports built from user-named labels."""
    return _walk(value, keep_last_digits, ())


def _walk(value: Any, keep: int, names: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact_text(value, keep, names)
    if isinstance(value, int) and not isinstance(value, bool) and find_pii(str(value)):
        return redact_text(str(value), keep, names)  # a card number sent as a JSON number
    if isinstance(value, list):
        return [_walk(v, keep, names) for v in value]
    if isinstance(value, dict):
        return {redact_text(str(k), keep, names): _walk(v, keep, names) for k, v in value.items()}
    return value


def stored_payload(ticket: Ticket, keep_last_digits: int) -> dict[str, Any]:
    """The ticket as the log keeps it: free text and metadata masked, no name, no customer id in clear.

    ``customer_name`` serves the draft's greeting, which is made before storage; the log keeps only that one
    was given. ``customer_salutation`` (a form of address says a gender) serves only the greeting and is not kept.
    ``customer_id`` is kept as a keyed hash in its own column (``TicketStore``), for forget.
    """
    names = _names(ticket.customer_name)

    def mask(text: str) -> str:
        return redact_text(text, keep_last_digits, names)

    masked = replace(
        ticket,
        text=mask(ticket.text),
        subject=None if ticket.subject is None else mask(ticket.subject),
        customer_name=CUSTOMER_NAME if ticket.customer_name else ticket.customer_name,
        messages=tuple(replace(m, text=mask(m.text)) for m in ticket.messages),
        metadata=_walk(ticket.metadata, keep_last_digits, names),
    )
    # external_id has a column of its own (engine/store/claims.py), as the customer id's hash has.
    return to_jsonable(masked, exclude={"customer_id", "customer_salutation", "external_id"})


def mask_spans(result: TriageResult, keep_last_digits: int) -> TriageResult:
    """The result with every ``pii[].text`` replaced by its placeholder (offsets still say where it was)."""
    return replace(result, pii=tuple(replace(p, text=placeholder(p, keep_last_digits)) for p in result.pii))


def stored_result(result: TriageResult, ticket: Ticket, keep_last_digits: int) -> dict[str, Any]:
    """The result as the log keeps it: PII spans masked, the customer's name out of every text written to them
    (the drafted reply, the rendered macros, the acknowledgement), and the gist (the ticket's text and its
    translation) masked like the ticket."""
    names = _names(ticket.customer_name)
    draft = result.draft
    macros = result.macros
    automations = result.automations
    if names:
        if draft is not None:
            draft = replace(draft, text=redact_text(draft.text, keep_last_digits, names))
        macros = tuple(replace(m, text=redact_text(m.text, keep_last_digits, names)) for m in macros)
        if automations is not None:
            automations = replace(
                automations, acknowledgement=redact_text(automations.acknowledgement, keep_last_digits, names)
            )
    entities = tuple(replace(e, text=redact_text(e.text, keep_last_digits, names)) for e in result.entities)
    gist = result.gist
    if gist is not None:
        gist = replace(
            gist,
            original=redact_text(gist.original, keep_last_digits, names),
            text=None if gist.text is None else redact_text(gist.text, keep_last_digits, names),
        )
    return to_jsonable(
        replace(
            mask_spans(result, keep_last_digits),
            draft=draft,
            entities=entities,
            macros=macros,
            automations=automations,
            gist=gist,
        )
    )
