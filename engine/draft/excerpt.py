"""The part of an article section that answers the ticket, quoted word for word.

Quoting a whole section buries the answer (users asked for drafts "to the point"), and paraphrasing would need a
generative model and could invent policy. So a section is cut into quotable units, each a substring of the
section's plain text: a sentence of a paragraph, a bullet item, or a whole numbered list (its steps only make
sense together and in order). The units most similar to the question are kept, in the section's own order,
with the section's opening sentence as context (it usually says what the section is about) and the lead-in
sentence of a numbered list ("... and enter your e-mail address:"). Similarity is the service encoder's
cosine between the ticket's vector and each unit's, so no other model is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[\"'„“«¿¡(]?[A-ZÀ-ÖØ-ÞĆČĐŠŽ0-9])")
BULLET = re.compile(r"^\s*[-*+]\s+")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+")
MARGIN = 0.03
"""Units this close to the best one's similarity are kept too (an answer often spans two sentences)."""
CONTEXT_CHARS = 300
"""The section's opening sentence is added as context up to this length (a longer one is an answer of its own)."""


def plain(body: str) -> str:
    """A section's Markdown without emphasis markers: what a draft quotes from."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", body)
    return re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text)


@dataclass(frozen=True)
class Unit:
    text: str
    block: int
    """The paragraph or list it belongs to: units of one block that follow each other are quoted as one."""
    kind: str
    """``sentence``, ``bullet`` or ``steps`` (a whole numbered list)."""


def units(body: str) -> list[Unit]:
    """The quotable units of a section, in order."""
    out: list[Unit] = []
    blocks = [b.strip() for b in re.split(r"\n\s*\n", plain(body)) if b.strip()]
    for i, block in enumerate(blocks):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if all(NUMBERED.match(line) for line in lines):
            out.append(Unit(block, i, "steps"))
        elif all(BULLET.match(line) for line in lines):
            out += [Unit(line, i, "bullet") for line in block.splitlines() if line.strip()]
        else:
            out += [Unit(s, i, "sentence") for line in lines for s in SENTENCE_BREAK.split(line) if s.strip()]
    return out


def choose(section: Sequence[Unit], scores: np.ndarray | None, limit: int) -> list[int]:
    """Indices of the units to quote, in order: the best matches within ``limit`` characters, plus context.

    Without scores (the ticket could not be encoded) the section is quoted from its start, as before.
    """
    if not section:
        return []
    order = [int(i) for i in np.argsort(-scores, kind="stable")] if scores is not None else list(range(len(section)))
    best = order[0]
    chosen = {best}
    used = len(section[best].text)
    for i in order[1:]:
        close = scores is None or scores[i] >= scores[best] - MARGIN
        if not close or used + len(section[i].text) > limit:
            break
        chosen.add(i)
        used += len(section[i].text)
    for i in sorted(chosen):
        if section[i].kind == "steps" and i > 0 and section[i - 1].kind == "sentence":
            chosen.add(i - 1)  # the lead-in: where the steps start from
    if 0 not in chosen and section[0].kind == "sentence" and len(section[0].text) <= CONTEXT_CHARS:
        chosen.add(0)
    return sorted(chosen)


def render(section: Sequence[Unit], chosen: Sequence[int]) -> str:
    """The chosen units as text: consecutive sentences of one paragraph on one line, a list's items one a line."""
    out = ""
    previous: int | None = None
    for i in chosen:
        unit = section[i]
        if previous is None:
            out = unit.text
        elif unit.kind == "bullet" and section[previous].block == unit.block:
            out += "\n" + unit.text  # items of one list stay one list, even with items left out between them
        elif previous == i - 1 and section[previous].block == unit.block:
            out += " " + unit.text
        else:
            out += "\n\n" + unit.text
        previous = i
    return out
