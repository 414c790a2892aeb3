"""Sentiment from a calibrated head over the shared embedding.

No registry package ships transformer sentiment weights, so the head is trained
on public labelled tweets and sentences (see ``engine/assets/sentiment-v1/meta.json``
and ``eval/train_sentiment.py``) and reads the same embedding every other head reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.models.registry import ModelRegistry
from engine.stage import TicketState
from engine.types import SentimentResult, Trend

TREND_DELTA = 0.3
# A helpdesk asks "is this customer unhappy?", not "which of three classes is likeliest?":
# the label follows the valence P(positive) - P(negative) once it leaves +-VALENCE_MARGIN.
# On UMSAB tweets this costs 1-7 accuracy points against the argmax (eval/results/sentiment.json),
# but complaints phrased without angry words ("my order has not arrived and I paid two weeks
# ago!") are read as negative instead of neutral.
VALENCE_MARGIN = 0.25


def valence_label(probs: np.ndarray, labels: tuple[str, ...], margin: float) -> tuple[str, float, float]:
    """(label, valence score in [-1, 1], calibrated probability of that label)."""
    idx = {label: i for i, label in enumerate(labels)}
    score = float(np.clip(probs[idx["positive"]] - probs[idx["negative"]], -1.0, 1.0))
    label = "negative" if score <= -margin else "positive" if score >= margin else "neutral"
    return label, round(score, 4), round(float(probs[idx[label]]), 4)


def trend_of(history: list[float]) -> Trend | None:
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
    name = "sentiment"
    needs = ("encode",)
    required = False

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def warm_up(self) -> None:
        _ = self._registry.sentiment_head

    def score(self, embeddings: np.ndarray) -> list[tuple[str, float, float]]:
        """(label, score in [-1, 1], confidence) per embedding row."""
        if len(embeddings) == 0:
            return []
        head = self._registry.sentiment_head
        return [valence_label(row, head.labels, VALENCE_MARGIN) for row in head.predict_proba(embeddings)]

    def run(self, batch: Sequence[TicketState]) -> None:
        found = self.analyse(
            np.vstack([s.embedding for s in batch]),
            [s.history_embeddings for s in batch],  # type: ignore[misc]  # "needs" guarantees them
        )
        for state, sentiment in zip(batch, found, strict=True):
            state.sentiment = sentiment

    def analyse(self, embeddings: np.ndarray, histories: list[np.ndarray]) -> list[SentimentResult]:
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
