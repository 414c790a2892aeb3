"""Fit, save and activate heads from labelled tickets, one head per label column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from engine.classify.data import LabelledTickets
from engine.models.heads import activate, fit_head
from engine.models.registry import ModelRegistry

FEW_EXAMPLES = 10


@dataclass(frozen=True)
class HeadReport:
    name: str
    version: str
    counts: dict[str, int]
    metrics: dict[str, float]
    warnings: list[str]


def train_heads(
    registry: ModelRegistry,
    data: LabelledTickets,
    heads: dict[str, str],
    encode: Callable[[list[str]], object] | None = None,
) -> list[HeadReport]:
    """Train ``heads`` (head name -> label column); each text is encoded once for all heads."""
    encoder = registry.encoder
    embed = encode or encoder.encode_queries
    vectors = embed(data.texts)
    index = {text: i for i, text in enumerate(data.texts)}
    reports = []
    for name, column in heads.items():
        texts, labels = data.labelled(column)
        counts = dict(sorted(Counter(labels).items()))
        warnings = [
            f"class {label!r} has only {n} examples; predictions for it will be unreliable"
            for label, n in counts.items()
            if n < FEW_EXAMPLES
        ]
        rows = [index[t] for t in texts]
        head = fit_head(
            name, vectors[rows], labels, texts, encoder.id,  # type: ignore[index]
            kind=registry.settings.head_kind, c=registry.settings.head_c,
        )
        head.save(registry.settings.heads_dir / name / head.meta.version)
        activate(registry.settings.heads_dir, name, head.meta.version)
        reports.append(HeadReport(name, head.meta.version, counts, head.meta.metrics, warnings))
    registry.reload_heads()
    return reports
