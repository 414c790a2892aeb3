"""The risk lexicon: high-precision patterns per kind and language, kept as data in ``lexicon.yaml``.

Patterns catch the wordings a person would call unmistakable ("smell of burning
plastic", "mein Anwalt", "je ne veux plus vivre") in any length of ticket, where
an embedding of a long, calm message may be dominated by its everyday parts.
They run on a normalised text (lowercase, accents folded), one sentence at a
time, so a look-alike guard ("smoke detector") only silences its own sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.errors import InvalidInput
from engine.types import RISK_KINDS

LEXICON_FILE = Path(__file__).parent / "lexicon.yaml"
# Letters NFKD does not decompose into a base letter and a mark.
_FOLD = str.maketrans({"ß": "ss", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "’": "'", "‘": "'", "`": "'"})
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def normalise(text: str) -> str:
    """Lowercase, accents folded, typographic apostrophes plain, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def sentences(text: str) -> list[str]:
    return [normalise(s) for s in _SENTENCE.split(text) if s.strip()]


@dataclass(frozen=True)
class Pattern:
    kind: str
    language: str
    id: str
    regex: re.Pattern[str]

    @property
    def evidence(self) -> str:
        return f"lexicon:{self.kind}:{self.language}:{self.id}"


class Lexicon:
    """Every kind's patterns by language, and each kind's look-alike guards."""

    def __init__(self, patterns: list[Pattern], guards: dict[str, list[re.Pattern[str]]]) -> None:
        self.patterns = patterns
        self.guards = guards
        self.languages = sorted({p.language for p in patterns})

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        """Read and compile the file; an unknown kind or a broken regex fails here, at start-up."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        patterns: list[Pattern] = []
        guards: dict[str, list[re.Pattern[str]]] = {}
        for kind, by_language in raw.items():
            if kind not in RISK_KINDS:
                raise InvalidInput("risk lexicon", f"{path}: unknown kind {kind!r}; valid: {', '.join(RISK_KINDS)}")
            try:
                guards[kind] = [re.compile(g) for g in by_language.pop("guards", None) or []]
                for language, entries in by_language.items():
                    patterns += [Pattern(kind, language, pid, re.compile(rx)) for pid, rx in entries.items()]
            except re.error as exc:
                raise InvalidInput("risk lexicon", f"{path}: bad pattern under {kind}: {exc}") from exc
        return cls(patterns, guards)

    def match(self, texts: list[str], languages: set[str]) -> dict[str, list[str]]:
        """Kind -> evidence ids of the patterns of ``languages`` that fire in any sentence of ``texts``."""
        found: dict[str, list[str]] = {}
        for sentence in (s for text in texts for s in sentences(text)):
            for p in self.patterns:
                if p.language not in languages or not p.regex.search(sentence):
                    continue
                if any(g.search(sentence) for g in self.guards.get(p.kind, ())):
                    continue
                ids = found.setdefault(p.kind, [])
                if p.evidence not in ids:
                    ids.append(p.evidence)
        return found
