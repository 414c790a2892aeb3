"""The encoder stage: one batched pass over every text of a batch, whose rows every other model head reads.

Tickets and their earlier customer messages go through the encoder together, once: sentiment, both
classifier heads, risk detection and retrieval all read these rows instead of encoding again. The encoder reads
each text without its identifiers (``encoder_text``), as the heads were trained. With ``head_second_view`` or
``retrieval_second_view`` on, the tickets (not their history, which neither reads) also go through the second
encoder, once, in the same batch, and both the heads and retrieval read that row (engine/models/head_views.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text
from engine.stage import TicketState


class TicketEncoder:
    name = "encode"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def warm_up(self) -> None:
        _ = self._registry.encoder, self._registry.second_view

    def run(self, batch: Sequence[TicketState]) -> None:
        histories = [s.history for s in batch]
        texts = [encoder_text(t) for t in [s.text for s in batch] + [h for hs in histories for h in hs]]
        vectors = self._registry.encoder.encode_queries(texts)
        second = self._registry.second_view
        seconds = second.encode(texts[: len(batch)]) if second is not None else [None] * len(batch)
        offset = len(batch)
        for i, (state, history) in enumerate(zip(batch, histories, strict=True)):
            state.embedding = vectors[i]
            state.second_embedding = seconds[i]
            state.history_embeddings = vectors[offset : offset + len(history)]
            offset += len(history)
