"""Risk detection: tickets that must reach a person at once, whatever the helpdesk's topics.

Two detectors, OR-ed, because a missed risk costs far more than a needless handoff:
the lexicon (``lexicon.yaml``) catches unmistakable wordings in any length of text,
and a calibrated head over the shared query embedding (``engine/assets/risk-v1``,
trained by ``eval/train_risk.py``) catches the paraphrases no pattern foresaw. Both
read the ticket and its earlier customer messages: a threat made two messages ago
still counts. The embeddings are the pipeline's own; nothing is encoded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.models.registry import ModelRegistry
from engine.risk.lexicon import Lexicon
from engine.stage import TicketState
from engine.types import RISK_KINDS, LanguageResult, RiskSignal

LEXICON_CONFIDENCE = 0.9
"""Reported for a lexicon hit the head does not score higher: its patterns are written to be unmistakable."""
NO_ROWS = np.zeros((0, 0), dtype=np.float32)
ALTERNATIVE_LANGUAGE_MIN = 0.1
"""A runner-up language this likely also gets its patterns applied (short or mixed-language texts)."""


@dataclass(frozen=True, eq=False)  # holds an array: compared by identity
class RiskInput:
    """One ticket as the risk stage reads it."""

    texts: tuple[str, ...]
    """The normalised ticket text (subject included), then its earlier customer messages."""
    embeddings: np.ndarray = field(repr=False)
    """The pipeline's query embeddings of those texts that were encoded (one row each, any order)."""
    language: LanguageResult

    def __post_init__(self) -> None:
        if self.embeddings.ndim != 2:
            raise ValueError(f"embeddings must be a 2-d array; got shape {self.embeddings.shape}")


class RiskDetector:
    name = "risk"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, registry: ModelRegistry, threshold: float) -> None:
        """``threshold``: the head's calibrated probability for a kind at which that kind fires."""
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"risk threshold must lie in (0, 1]; got {threshold}")
        self._registry = registry
        self._threshold = threshold
        self._lexicon: Lexicon | None = None

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = Lexicon.load()
        return self._lexicon

    def warm_up(self) -> None:
        _ = self.lexicon
        _ = self._registry.risk_head

    def _languages(self, language: LanguageResult) -> set[str]:
        """The detected language, a likely runner-up and English; every language when none of them has patterns."""
        known = set(self.lexicon.languages)
        codes = {language.code} | {a.code for a in language.alternatives if a.confidence >= ALTERNATIVE_LANGUAGE_MIN}
        if not codes & known:
            return known
        return (codes & known) | {"en"}

    def head_scores(self, inputs: list[RiskInput]) -> list[dict[str, float]]:
        """Per ticket, each kind's highest calibrated probability over its encoded texts."""
        head = self._registry.risk_head
        rows = [x.embeddings for x in inputs]
        if not any(len(r) for r in rows):
            return [{} for _ in inputs]
        probs = head.predict_proba(np.vstack([r for r in rows if len(r)]))
        columns = {kind: head.labels.index(kind) for kind in RISK_KINDS if kind in head.labels}
        scores: list[dict[str, float]] = []
        start = 0
        for r in rows:
            block = probs[start : start + len(r)]
            start += len(r)
            scores.append({k: float(block[:, c].max()) for k, c in columns.items()} if len(r) else {})
        return scores

    def run(self, batch: Sequence[TicketState]) -> None:
        """Reads the ticket and every earlier customer message, and their embeddings where the encoder gave them
        (without them the lexicon still reads the text)."""
        found = self.detect(
            [
                RiskInput(
                    texts=(s.text, *s.history),
                    embeddings=np.vstack([s.embedding, s.history_embeddings])
                    if s.embedding is not None and s.history_embeddings is not None
                    else NO_ROWS,
                    language=s.language,
                )
                for s in batch
            ]
        )
        for state, risks in zip(batch, found, strict=True):
            state.risk = risks

    def detect(self, inputs: list[RiskInput]) -> list[tuple[RiskSignal, ...]]:
        """The risks of each ticket, most confident first; empty where there is none."""
        results = []
        for x, scores in zip(inputs, self.head_scores(inputs), strict=True):
            hits = self.lexicon.match(list(x.texts), self._languages(x.language))
            signals = []
            for kind in RISK_KINDS:
                p = scores.get(kind, 0.0)
                by_head = p >= self._threshold
                if kind not in hits and not by_head:
                    continue
                evidence = tuple(hits.get(kind, ())) + ((f"head:{p:.2f}",) if by_head else ())
                confidence = max(p, LEXICON_CONFIDENCE) if kind in hits else p
                signals.append(RiskSignal(kind, round(confidence, 4), evidence))  # type: ignore[arg-type]
            results.append(tuple(sorted(signals, key=lambda s: -s.confidence)))
        return results
