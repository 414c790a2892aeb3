"""Cutting a text into the sentences a neural model translates, and putting the translations back in place.

Argos and Bergamot models are trained on single sentences: a whole draft fed as one input comes back cut
short or repeated. Line breaks, blank lines and list markers are layout, not language, so they are kept
exactly and only the sentences between them go to the model: a translated draft keeps its paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_LINE_BREAKS = re.compile(r"(\n+)")
_MARKER = re.compile(r"^(\s*(?:[-*•>]|#{1,6}|\d{1,3}[.)])?\s*)")  # list items, quotes, Markdown headings
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


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
            if piece.startswith("\n") or not body.strip():
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
