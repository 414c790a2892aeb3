"""Sentiment from a calibrated head over the shared embedding, nudged by a word list where the head is weakest.

No registry package ships transformer sentiment weights, so the head is trained
on public labelled tweets and sentences (see ``engine/assets/sentiment-v1/meta.json``
and ``eval/train_sentiment.py``) and reads the same embedding every other head reads.
In a language it was not trained on (Italian, Portuguese...) it loses 2 to 8 points of accuracy; there a
shipped lexicon of that language, if any, nudges its probabilities (``LexiconFusion``): measured by leaving each
UMSAB language out of training (``eval/sentiment_lexicons.py``). Where no lexicon exists the head stands alone.
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
        _ = self._registry.sentiment_head, self._registry.sentiment_lexicons, self._registry.sentiment_fusion

    def score(
        self, embeddings: np.ndarray, texts: Sequence[str] = (), languages: Sequence[str] = ()
    ) -> list[tuple[str, float, float]]:
        """(label, score in [-1, 1], confidence) per embedding row; the rows' ``texts`` and ``languages`` (both or
        neither) let the lexicon of a language the head was not trained on take part."""
        if len(embeddings) == 0:
            return []
        head = self._registry.sentiment_head
        probs = head.predict_proba(embeddings)
        fusion = self._registry.sentiment_fusion
        if fusion is not None and texts:
            assert fusion.labels == head.labels, "the fusion is fitted with its head"
            lexicons = self._registry.sentiment_lexicons
            for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
                lexicon = lexicons.get(language)
                if lexicon is not None and fusion.applies_to(language):
                    probs[i] = fusion.apply(probs[i : i + 1], np.asarray([lexicon.masses(text)]))[0]
        return [valence_label(row, head.labels, VALENCE_MARGIN) for row in probs]

    def run(self, batch: Sequence[TicketState]) -> None:
        found = self.analyse(
            np.vstack([s.embedding for s in batch]),
            [s.history_embeddings for s in batch],  # type: ignore[misc]  # "needs" guarantees them
            [s.text for s in batch],
            [s.history for s in batch],
            [s.language.code for s in batch],
        )
        for state, sentiment in zip(batch, found, strict=True):
            state.sentiment = sentiment

    def analyse(
        self,
        embeddings: np.ndarray,
        histories: list[np.ndarray],
        texts: Sequence[str] = (),
        history_texts: Sequence[list[str]] = (),
        languages: Sequence[str] = (),
    ) -> list[SentimentResult]:
        """One result per ticket; ``histories[i]`` holds the embeddings of ticket i's earlier customer messages.
        The texts (``texts[i]``, ``history_texts[i]``) and ``languages[i]``, all or none, are the lexicon's."""
        current = self.score(embeddings, texts, languages)
        results = []
        for i, ((label, score, confidence), earlier) in enumerate(zip(current, histories, strict=True)):
            past = [
                s
                for _, s, _ in (
                    self.score(earlier, history_texts[i], [languages[i]] * len(earlier))
                    if texts
                    else self.score(earlier)
                )
            ]
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
