"""Greetings, courtesies, sign-offs and legal footers: the parts of an e-mail that say nothing about its request.

Left in, they decide meaning where they should not: sixteen unrelated German e-mails group together by
"Mit freundlichen Grüßen", and a French greeting becomes the title of a KB gap. The formulae are data
(``email_noise.yaml``, per language, all applied: a ticket's language is not known yet when it is cleaned).
Each is matched against a whole line or sentence, never inside one, and what is cut must be the ticket's edge:
a greeting and courtesies at its start, a sign-off at its end with at most a short signature after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

FORMULAE_FILE = Path(__file__).with_name("email_noise.yaml")
# One unit: a run of text up to a sentence end or a line end, with its terminator.
_UNIT = re.compile(r"[^\n.!?]*(?:[.!?]+|\n|$)")
_EDGE = " \t\n.,;:!?-–—"
SIGNATURE_LINES = 5
SIGNATURE_WORDS = 6
GREETING_WORDS = 4
"""A greeting line without a comma or colon is taken as one only when this short ("Hello Support Team")."""


@dataclass(frozen=True)
class Formulae:
    greeting: re.Pattern[str]
    pleasantry: re.Pattern[str]
    closing: re.Pattern[str]
    disclaimer: re.Pattern[str]


@cache
def formulae() -> Formulae:
    raw = yaml.safe_load(FORMULAE_FILE.read_text(encoding="utf-8"))

    def either(key: str) -> str:
        return "|".join(f"(?:{p})" for p in raw[key])

    return Formulae(
        # The greeting itself, then what ends it: a comma, colon or exclamation mark, or the end of its line.
        greeting=re.compile(rf"\s*(?:{either('greetings')})(?:[,:!]+|[ \t]*(?=\n))", re.IGNORECASE),
        pleasantry=re.compile(either("pleasantries"), re.IGNORECASE),
        closing=re.compile(either("closings"), re.IGNORECASE),
        disclaimer=re.compile(rf"^[ \t>*_-]*(?:{either('disclaimers')})", re.IGNORECASE | re.MULTILINE),
    )


def _units(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line, blank ones left out."""
    return [(m.start(), m.end()) for m in _UNIT.finditer(text) if m.group().strip()]


def _is(pattern: re.Pattern[str], piece: str) -> bool:
    return pattern.fullmatch(piece.strip(_EDGE)) is not None


def _signature(rest: str) -> bool:
    """Whether what follows a sign-off is a signature (name, role, company, phone), not more of the request."""
    lines = [line.strip() for line in rest.splitlines() if line.strip()]
    return len(lines) <= SIGNATURE_LINES and all(
        len(line.split()) <= SIGNATURE_WORDS and not line.endswith(("?", ".")) for line in lines
    )


def _cut_closing(text: str, f: Formulae) -> str:
    """Cut at the first sign-off or closing courtesy after which only more of them or a signature follows."""
    units = _units(text)
    for i, (start, end) in enumerate(units):
        if not (_is(f.closing, text[start:end]) or _is(f.pleasantry, text[start:end])):
            continue
        rest = units[i + 1 :]
        if all(_is(f.closing, text[s:e]) or _is(f.pleasantry, text[s:e]) for s, e in rest) or _signature(text[end:]):
            if _is(f.closing, text[start:end]) or any(_is(f.closing, text[s:e]) for s, e in rest):
                return text[:start]
    return text


def _cut_opening(text: str, f: Formulae) -> str:
    greeting = f.greeting.match(text)
    if greeting is not None:
        line = text[: greeting.end()].strip()
        punctuated = line.endswith((",", ":", "!"))
        if punctuated or len(line.split()) <= GREETING_WORDS:
            text = text[greeting.end() :]
    while (units := _units(text)) and _is(f.pleasantry, text[units[0][0] : units[0][1]]):
        text = text[units[0][1] :]
    return text


def strip_email_noise(body: str) -> str:
    """The body without its greeting, courtesies, sign-off, signature and legal footer; the body itself when
    nothing else would be left (a message that is only "Thanks!" is its own content)."""
    f = formulae()
    text = body
    footer = f.disclaimer.search(text)
    if footer is not None and text[: footer.start()].strip():
        text = text[: footer.start()]
    text = _cut_opening(_cut_closing(text, f), f)
    return text.strip() if text.strip() else body
