"""Cutting a text into the sentences a neural model translates, and putting the translations back in place.

Argos and Bergamot models are trained on single sentences: a whole draft fed as one input comes back cut
short or repeated. Line breaks, blank lines and list markers are layout, not language, so they are kept
exactly and only the sentences between them go to the model: a translated draft keeps its paragraphs.
Links and e-mail addresses are not language either: a model "translates" them too (Bergamot wrote a draft's
article link as "https: //help. lumio. example/articles/...'if-the-parcel-is-lost"), so no backend sees them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_LINE_BREAKS = re.compile(r"(\n+)")
_MARKER = re.compile(r"^(\s*(?:[-*•>]|#{1,6}|\d{1,3}[.)])?\s*)")  # list items, quotes, Markdown headings
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_VERBATIM = re.compile(
    r"((?i:https?://|www\.)[^\s<>()\[\]\"]+[^\s<>()\[\]\".,;:!?]|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
    r"|\b[\w-]+(?:\.[a-z][a-z0-9-]+)+\b(?:/[^\s<>()\[\]\"]*[^\s<>()\[\]\".,;:!?])?)"
)
"""Links, bare domains ("status.lumio.example", which Bergamot wrote "status. lumio. example") and e-mail addresses,
captured: ``split`` alternates the text between them (even) with them (odd)."""
_LETTER = re.compile(r"[^\W\d_]")


def translate_around_links(texts: list[str], translate: Callable[[list[str]], list[str]]) -> list[str]:
    """``texts`` translated by ``translate`` (one call) with every link and e-mail address kept as written: the
    pieces between them are translated as texts of their own, pieces without a letter are kept too."""
    pieces = [_VERBATIM.split(text) for text in texts]

    def prose(i: int, piece: str) -> bool:
        return i % 2 == 0 and _LETTER.search(piece) is not None

    wanted = [_edges(p)[1] for parts in pieces for i, p in enumerate(parts) if prose(i, p)]
    translated = iter(translate(wanted) if wanted else [])
    return ["".join(_keep_edges(p, next(translated)) if prose(i, p) else p for i, p in enumerate(parts))
            for parts in pieces]


_EDGES = re.compile(r"([\s)\]}>.,;:!?]*)(.*?)([\s(\[{<]*)", re.DOTALL)
"""A piece's edges where it meets links: the brackets and stops that close one before it, the space and opening
bracket of one after it. Sent along, a model wrote "(em" before a link, continuing the sentence into it."""


def _edges(piece: str) -> tuple[str, str, str]:
    """(lead, what to translate, tail): ``_EDGES`` matches any text, each of its parts may be empty."""
    match = _EDGES.fullmatch(piece)
    assert match is not None
    return match[1], match[2], match[3]


def _keep_edges(original: str, translated: str) -> str:
    """The translation between the original's edges."""
    lead, _, tail = _edges(original)
    return lead + translated.strip() + tail


def translate_sentences(texts: list[str], translate: Callable[[list[str]], list[str]]) -> list[str]:
    """``texts`` with every sentence replaced by ``translate``'s output for it: one call for all of them."""
    plans: list[list[tuple[str, list[str]] | str]] = []
    sentences: list[str] = []
    for text in texts:
        plan: list[tuple[str, list[str]] | str] = []
        for piece in _LINE_BREAKS.split(text):
            marker = _MARKER.match(piece)
            prefix = marker.group(1) if marker else ""
            body = piece[len(prefix) :]
            if piece.startswith("\n") or not _LETTER.search(body):
                plan.append(piece)
                continue
            own = [s for s in _SENTENCE_END.split(body.strip()) if s]
            plan.append((prefix, own))
            sentences += own
        plans.append(plan)
    translated = iter(translate(sentences) if sentences else [])
    out = []
    for plan in plans:
        parts = [p if isinstance(p, str) else p[0] + " ".join(next(translated) for _ in p[1]) for p in plan]
        out.append("".join(parts))
    return out
