"""Personal data found by patterns with checksums, the same in every language.

Checksums (Luhn for cards, ISO 7064 mod 97 for IBANs) keep order numbers and
tracking codes from being flagged as card numbers and sent to a human needlessly.
"""

from __future__ import annotations

import re

from engine.types import Span

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w#])(?:\+|00)?\d[\d ()/.-]{7,18}\d(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(raw: str) -> bool:
    iban = raw.replace(" ", "")
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def find_pii(text: str) -> list[Span]:
    """Emails, IBANs, payment cards and phone numbers, without overlaps."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(label: str, m: re.Match[str]) -> None:
        if any(m.start() < end and start < m.end() for start, end in taken):
            return
        spans.append(Span(label=label, text=m.group(), start=m.start(), end=m.end(), source="pii-rules"))
        taken.append((m.start(), m.end()))

    for m in _EMAIL.finditer(text):
        add("EMAIL", m)
    for m in _IBAN.finditer(text):
        if _iban_ok(m.group()):
            add("IBAN", m)
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            add("CARD_NUMBER", m)
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        # Bare 5-8 digit runs are order numbers; phones carry a prefix or separators.
        has_shape = m.group().startswith(("+", "00", "0")) or re.search(r"[ ()/.-]", m.group())
        if 9 <= len(digits) <= 15 and has_shape:
            add("PHONE", m)
    return sorted(spans, key=lambda s: s.start)


def redact(text: str, spans: list[Span] | None = None) -> str:
    """The text with every PII span replaced by its label, for logs."""
    spans = find_pii(text) if spans is None else spans
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[last : span.start])
        out.append(f"[{span.label}]")
        last = span.end
    out.append(text[last:])
    return "".join(out)
