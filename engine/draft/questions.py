"""The parts of a ticket that ask different things ("How do I return it? And also, when is my refund due?").

One section rarely answers two questions, so a draft answers each part from the section that fits it best.
Parts are found without a model: sentences that ask (end in a question mark), and clauses that a connective
such as "and also" or "außerdem" starts. A ticket with fewer than two parts is one question.
"""

from __future__ import annotations

import re

MAX_PARTS = 3
MIN_PART_CHARS = 12
"""Shorter fragments ("Why?", "Thanks!") ask nothing a section could answer on its own."""
CONNECTIVES = re.compile(
    r"\b(?:and also|also(?=,)|another question|one more thing|besides|außerdem|ausserdem|zudem|noch eine frage|"
    r"además|también quería|otra pregunta|aussi(?=,)|également|par ailleurs|autre question|također|osim toga|"
    r"još jedno pitanje)\b",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"[^.!?¿¡]*[.!?]+|[^.!?]+$")


def question_parts(text: str) -> list[str]:
    """The distinct questions of a ticket, in order, at most ``MAX_PARTS``; [] when it asks one thing."""
    asked = [s.strip() for s in SENTENCE.findall(text) if "?" in s and len(s.strip()) >= MIN_PART_CHARS]
    joined = [c.strip(" ,;") for c in CONNECTIVES.split(text) if len(c.strip(" ,;")) >= MIN_PART_CHARS]
    parts = list(dict.fromkeys(asked if len(asked) >= 2 else joined))
    return parts[:MAX_PARTS] if len(parts) >= 2 else []
