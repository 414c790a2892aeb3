"""Sentence windows: short passages of a section that the index holds beside the section itself.

A question usually targets one sentence of a section, and the section's vector
averages over everything else it says: a question in another language then
lands as near a vaguer section of another article. Each section is therefore
also cut into windows of a few consecutive sentences, encoded with the same
title and heading in front, and the retriever scores a section by a mix of its
own similarity and its best window's. On XQuAD (240 English paragraphs, questions
in seven languages) this lifted recall@1 in every language; see docs/results.md.

A section with no more sentences than a window gets no window: its own vector
is that window. Windows are character ranges of the flattened section text, the
text that snippets are cut from, so a hit can show the window that matched.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.retrieve.snippets import flatten, sentence_starts


@dataclass(frozen=True)
class Window:
    chunk: int
    """Row of the window's section in the build's chunk list."""
    start: int
    end: int
    """``[start, end)`` in ``flatten(section text)``."""


def section_windows(chunk_row: int, text: str, size: int) -> list[Window]:
    """Every run of ``size`` consecutive sentences of the section, overlapping; none if ``size`` is 0."""
    flat = flatten(text)
    starts = sentence_starts(flat)
    if size < 1 or len(starts) <= size:
        return []
    bounds = [*starts, len(flat)]
    return [
        Window(chunk_row, bounds[i], len(flat[: bounds[i + size]].rstrip()))
        for i in range(len(starts) - size + 1)
    ]


def window_text(section_text: str, window: Window) -> str:
    return flatten(section_text)[window.start : window.end]
