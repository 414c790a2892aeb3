"""Sentiment from a calibrated head over the shared embedding.

No registry package ships transformer sentiment weights, so the head is trained
on public labelled tweets and sentences (see ``engine/assets/sentiment-v1/meta.json``
and ``eval/train_sentiment.py``) and reads the same embedding every other head reads.
"""

from __future__ import annotations

import numpy as np

from engine.models.registry import ModelRegistry
from engine.types import SentimentResult

TREND_DELTA = 0.3


def trend_of(history: list[float]) -> str | None:
    """'worsening', 'improving' or 'stable' from the first to the latest customer message."""
    if len(history) < 2:
        return None
    delta = history[-1] - history[0]
    if delta <= -TREND_DELTA:
        return "worsening"
    if delta >= TREND_DELTA:
        return "improving"
    return "stable"


class SentimentAnalyser:
    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def warm_up(self) -> None:
        _ = self._registry.sentiment_head

    def score(self, embeddings: np.ndarray) -> list[tuple[str, float, float]]:
        """(label, score in [-1, 1], confidence) per embedding row."""
        if len(embeddings) == 0:
            return []
        head = self._registry.sentiment_head
        probs = head.predict_proba(embeddings)
        idx = {label: i for i, label in enumerate(head.labels)}
        out = []
        for row in probs:
            best = int(np.argmax(row))
            score = float(row[idx["positive"]] - row[idx["negative"]])
            out.append((head.labels[best], round(max(-1.0, min(1.0, score)), 4), round(float(row[best]), 4)))
        return out

    def run(self, embeddings: np.ndarray, histories: list[np.ndarray]) -> list[SentimentResult]:
        """One result per ticket; ``histories[i]`` holds the embeddings of ticket i's earlier customer messages."""
        current = self.score(embeddings)
        results = []
        for (label, score, confidence), earlier in zip(current, histories, strict=True):
            past = [s for _, s, _ in self.score(earlier)]
            history = [*past, score]
            results.append(
                SentimentResult(
                    label=label,  # type: ignore[arg-type]
                    score=score,
                    confidence=confidence,
                    trend=trend_of(history),
                    history=tuple(history),
                )
            )
        return results
