"""The optional cross-encoder stage: real shipped weights, English queries only."""

from __future__ import annotations

import pytest

from engine.models.cross_encoder import CrossEncoder, reranker_folder
from engine.models.registry import ModelRegistry
from engine.retrieve import Retriever
from engine.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cross_encoder() -> CrossEncoder:
    return CrossEncoder(*reranker_folder("cross-encoder-en"))


def test_cross_encoder_prefers_the_passage_that_answers(cross_encoder: CrossEncoder) -> None:
    scores = cross_encoder.scores(
        "How long does a refund take?",
        [
            "Parcels arrive within three to five working days; track them under Orders.",
            "Refunds reach your card five working days after the returned item arrives at our warehouse.",
            "Long text " * 400,  # longer than the model's 512 tokens: the passage is cut, the query kept
        ],
    )
    assert scores.shape == (3,) and ((0 <= scores) & (scores <= 1)).all()
    assert scores[1] > 0.5 > scores[0] and scores[1] > scores[2]
    assert cross_encoder.scores("anything", []).shape == (0,)


@pytest.fixture(scope="module")
def reranking(settings: Settings, ready_registry: ModelRegistry) -> tuple[Retriever, ModelRegistry]:
    registry = ModelRegistry(settings.model_copy(update={"rerank": "cross-encoder-en"}))
    return Retriever(registry, settings.index_dir, mode="dense", rerank_top_n=8), registry


def test_english_queries_are_reranked_and_others_are_not(reranking: tuple[Retriever, ModelRegistry]) -> None:
    retriever, registry = reranking
    encoder = registry.encoder
    query = "I forgot my password and cannot sign in"
    [hits] = retriever.run(encoder.encode_queries([query]), ["en"], 3, texts=[query])
    assert len(hits) == 3 and hits[0].id == "account-reset-password"
    assert all("rerank" in h.sources and h.rerank_score is not None for h in hits)
    assert [h.rerank_score for h in hits] == sorted((h.rerank_score or 0.0 for h in hits), reverse=True)
    spanish = "Olvidé mi contraseña y no puedo iniciar sesión"
    [hits] = retriever.run(encoder.encode_queries([spanish]), ["es"], 3, texts=[spanish])
    assert hits and all(h.rerank_score is None and "rerank" not in h.sources for h in hits)
