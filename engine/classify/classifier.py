"""Topic and urgency predictions with their alternatives.

A topic is reported as ``None`` rather than forced into the nearest class when
the head's out-of-scope score (similarity to the nearest training tickets plus a
weight times the calibrated confidence, minus a weight times the similarity to
known out-of-scope examples) falls below the threshold chosen when the head was
trained (see ``engine.training.fit.choose_scope_rule``), or when its calibrated
probability stays under the out-of-scope threshold setting: a ticket about
something the helpdesk never trained for must reach a person.

A head trained with a second view (``head_second_view``) reads e5 ⊕ the second encoder's row, centred by language
when trained so, with the second half taken from the nearest training rows in languages that encoder does not know;
a head trained on e5 alone reads e5 alone (engine/models/head_views.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.errors import ModelError
from engine.models.head_views import impute, join, second_view_of
from engine.models.heads import Head
from engine.models.registry import ModelRegistry
from engine.stage import TicketState
from engine.types import LabelScore, Prediction

HEAD_NAMES = ("topic", "urgency")
ALTERNATIVES = 3


def predictions(
    head: Head,
    embeddings: np.ndarray,
    decline_below: float = 0.0,
    check_scope: bool = False,
    alternatives: int = ALTERNATIVES,
) -> list[Prediction]:
    probs = head.predict_proba(embeddings)
    scoped = head.in_scope(embeddings, probs) if check_scope else np.ones(len(embeddings), dtype=bool)
    out = []
    for row, in_scope in zip(probs, scoped, strict=True):
        order = np.argsort(-row)
        best = int(order[0])
        confidence = float(row[best])
        out.append(
            Prediction(
                label=head.labels[best] if in_scope and confidence >= decline_below else None,
                confidence=round(confidence, 4),
                alternatives=tuple(
                    LabelScore(head.labels[int(i)], round(float(row[int(i)]), 4)) for i in order[:alternatives]
                ),
                model_version=head.meta.version,
            )
        )
    return out


class TicketClassifier:
    name = "classify"
    needs = ("encode",)
    required = False

    def __init__(self, registry: ModelRegistry, out_of_scope_threshold: float) -> None:
        self._registry = registry
        self._oos = out_of_scope_threshold

    def warm_up(self) -> None:
        for name in HEAD_NAMES:
            self._registry.require_head(name)

    def run(self, batch: Sequence[TicketState]) -> None:
        languages = [s.language.code for s in batch]
        seconds = [s.second_embedding for s in batch]
        second = None if any(v is None for v in seconds) else np.vstack(seconds)
        topics, urgencies = self.predict(np.vstack([s.embedding for s in batch]), languages, second)
        for state, topic, urgency in zip(batch, topics, urgencies, strict=True):
            state.topic, state.urgency = topic, urgency

    def predict(
        self, embeddings: np.ndarray, languages: Sequence[str], second: np.ndarray | None = None
    ) -> tuple[list[Prediction], list[Prediction]]:
        """(topics, urgencies), one each per embedding row; ``languages``: each row's detected language code;
        ``second``: the rows of the second encoder (required by a head trained with it; a head trained on e5 alone
        ignores them)."""
        topic_head = self._registry.require_head("topic")
        topic = predictions(topic_head, self._features(topic_head, embeddings, second, languages), self._oos, check_scope=True)
        # Every urgency level, so routing knows the helpdesk's scale when a risk raises the urgency.
        urgency_head = self._registry.require_head("urgency")
        urgency = predictions(
            urgency_head,
            self._features(urgency_head, embeddings, second, languages),
            alternatives=len(urgency_head.labels),
        )
        return topic, urgency

    @staticmethod
    def _features(
        head: Head, embeddings: np.ndarray, second: np.ndarray | None, languages: Sequence[str]
    ) -> np.ndarray:
        """What ``head`` reads: its (centred) rows of the view it was trained with, the second half taken from the
        nearest training rows where that encoder does not know the language."""
        if second_view_of(head.meta.provenance) == "none":
            return head.features(embeddings, languages)
        if second is None:
            raise ModelError(f"the {head.meta.name} head reads a second view the encode stage did not give")
        features = head.features(join(embeddings, second), languages)
        return impute(features, languages, embeddings.shape[1], head.support)
