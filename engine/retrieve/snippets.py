"""The passage of a matched section that best matches the query, with the matched terms located.

The dense index knows which section answers, not where in it; a snippet cut from
the section start often shows the preamble instead of the sentence the customer
needs. Candidate windows start at sentence boundaries and are scored by how many
distinct query terms they contain, using the BM25 analyser (``analysis.py``) so
that "Pakete" in a query matches "Paket" in an article. Highlights are character
offsets into the returned snippet, not markup, so a UI can render them without
trusting HTML from the KB.

Across languages a query and a section rarely share a term; the snippet then
starts at the section's sentence window that matched the query best in the dense
index (``windows.py``), without highlights, or at the section start when the
section has no windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from engine.retrieve.analysis import term_spans

SNIPPET_CHARS = 240
ELLIPSIS = "…"
# Sentence ends, Devanagari danda and Arabic question mark included; shared with the index's windows.
SENTENCE_END = re.compile(r"(?<=[.!?;:।؟。！？；])\s+|(?<=[。！？；])")
# Section texts repeat across requests (the KB is finite); analysing one costs ~2 ms.
_CACHED_SECTIONS = 8192


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...] = ()
    """``[start, end)`` character offsets into ``text`` of the words that matched the query."""


def flatten(text: str) -> str:
    """One line of plain words: Markdown bold markers and line breaks removed."""
    return " ".join(text.replace("**", "").split())


@lru_cache(maxsize=_CACHED_SECTIONS)
def section_terms(text: str, language: str) -> tuple[tuple[int, int, str], ...]:
    """``term_spans`` of a flattened section, cached: the same sections are matched again and again."""
    return tuple(term_spans(text, language))


def sentence_starts(flat: str) -> list[int]:
    """Offsets where the sentences of a flattened text begin (the first is 0): where windows and snippets start."""
    return [0] + [m.end() for m in SENTENCE_END.finditer(flat) if m.end() < len(flat)]


def _window_end(flat: str, start: int, limit: int) -> int:
    if len(flat) - start <= limit:
        return len(flat)
    cut = flat.rfind(" ", start, start + limit)
    return cut if cut > start else start + limit


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Overlapping or touching spans as one (CJK unigrams and bigrams overlap)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def best_snippet(
    section: str, language: str, query_terms: frozenset[str], limit: int = SNIPPET_CHARS, dense_start: int = 0
) -> Snippet:
    """The window of at most ``limit`` characters holding the most distinct query terms.

    Among equals, the window whose first match comes soonest after its start: it begins at the
    sentence that matches. A section that fits comes whole; with no shared term, from ``dense_start``
    (the offset in the flattened section of the sentence window the dense index matched best).
    """
    flat = flatten(section)
    spans = [s for s in section_terms(flat, language) if s[2] in query_terms] if query_terms else []
    start = dense_start if not spans and len(flat) > limit else 0
    end = _window_end(flat, start, limit)
    if spans and end < len(flat):
        best: tuple[int, int] = (0, 0)
        for candidate in sentence_starts(flat):
            stop = _window_end(flat, candidate, limit)
            inside = [(s, term) for s, e, term in spans if s >= candidate and e <= stop]
            if not inside:
                continue
            rank = (len({term for _, term in inside}), candidate - inside[0][0])
            if rank > best:
                best, start, end = rank, candidate, stop
    body = flat[start:end].rstrip(",;: ")
    prefix = f"{ELLIPSIS} " if start > 0 else ""
    suffix = f" {ELLIPSIS}" if end < len(flat) else ""
    shift = len(prefix) - start
    marks = [(s + shift, e + shift) for s, e, _ in spans if s >= start and e <= start + len(body)]
    return Snippet(prefix + body + suffix, _merge(marks))
