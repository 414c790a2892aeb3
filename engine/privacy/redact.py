"""What is stored of a ticket: its personal data replaced by placeholders before the first write.

The ticket log, the feedback export, the gap report and `sift triage-file` all
read what is stored, so masking once at the door covers them all; nothing in
clear is ever written, so nothing in clear can linger in SQLite's free pages or
WAL. A card number or IBAN keeps its last digits (``pii_keep_last_digits``)
because agents ask "the card ending 1234?"; everything else keeps only its kind.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from engine.privacy.pii import find_pii, redact
from engine.types import Span

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


def _names(payload: dict[str, Any]) -> tuple[str, ...]:
    """The customer's name and its parts (3+ letters), longest first, to take out of the free text too."""
    name = str(payload.get("customer_name") or "").strip()
    if not name:
        return ()
    parts = {name, *(p for p in name.split() if len(p) >= 3)}
    return tuple(sorted(parts, key=len, reverse=True))


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


def stored_payload(payload: dict[str, Any], keep_last_digits: int) -> dict[str, Any]:
    """The ticket as the log keeps it: free text and metadata masked, no name, no customer id in clear.

    ``customer_name`` serves the draft's greeting, which is made before storage; the log keeps only that one
    was given. ``customer_id`` is kept as a keyed hash in its own column (``TicketStore``), for forget.
    """
    names = _names(payload)
    out = {k: v for k, v in payload.items() if k not in ("customer_id",)}
    for field in ("text", "subject"):
        if isinstance(out.get(field), str):
            out[field] = redact_text(out[field], keep_last_digits, names)
    if out.get("messages"):
        out["messages"] = [
            {**m, "text": redact_text(str(m.get("text", "")), keep_last_digits, names)} for m in out["messages"]
        ]
    if out.get("metadata"):
        out["metadata"] = _walk(out["metadata"], keep_last_digits, names)
    if out.get("customer_name"):
        out["customer_name"] = CUSTOMER_NAME
    return out


def mask_spans(result: dict[str, Any], keep_last_digits: int) -> dict[str, Any]:
    """The result with every ``pii[].text`` replaced by its placeholder (offsets still say where it was)."""
    masked = dict(result)
    masked["pii"] = [
        {**p, "text": placeholder(Span(p["label"], p["text"], p["start"], p["end"]), keep_last_digits)}
        for p in result.get("pii") or []
    ]
    return masked


def stored_result(result: dict[str, Any], payload: dict[str, Any], keep_last_digits: int) -> dict[str, Any]:
    """The result as the log keeps it: PII spans masked, the customer's name out of the drafted reply."""
    stored = copy.deepcopy(mask_spans(result, keep_last_digits))
    names = _names(payload)
    if stored.get("draft") and names:
        stored["draft"]["text"] = redact_text(stored["draft"]["text"], keep_last_digits, names)
    stored["entities"] = [
        {**e, "text": redact_text(e["text"], keep_last_digits, names)} for e in stored.get("entities") or []
    ]
    return stored
