"""Hybrid fusion of the dense and BM25 scores: what each method keeps and what it lets through."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.retrieve.retriever import Retriever, fuse
from engine.settings import Settings

WEIGHTS = {"dense": 1.0, "lexical": 0.25}
# "a" leads dense search; "b" is a close runner-up; "c" is far behind on dense but BM25's best match.
RANKINGS = {
    "dense": {"a": 0.90, "b": 0.89, "c": 0.70},
    "lexical": {"b": 5.0, "c": 10.0},
}


def order(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda f: -scores[f])


def test_convex_fusion_keeps_how_far_behind_a_candidate_is() -> None:
    # Rank fusion lifts "c" over the dense leader for a BM25 rank alone; the convex mean does not.
    assert order(fuse(RANKINGS, WEIGHTS, "rrf")) == ["b", "c", "a"]
    assert order(fuse(RANKINGS, WEIGHTS, "convex")) == ["a", "b", "c"]


def test_convex_scores_are_the_weighted_mean_of_min_max_normalised_scores() -> None:
    fused = fuse(RANKINGS, WEIGHTS, "convex")
    assert fused["a"] == pytest.approx(1.0 / 1.25)  # best on dense, not nominated by BM25
    assert fused["b"] == pytest.approx((0.19 / 0.20) / 1.25)  # BM25's weakest candidate: 0 from it
    assert fused["c"] == pytest.approx(0.25 / 1.25)
    assert all(0.0 <= v <= 1.0 for v in fused.values())


def test_a_heavier_lexical_weight_lets_bm25_decide() -> None:
    assert order(fuse(RANKINGS, {"dense": 1.0, "lexical": 4.0}, "convex"))[0] == "c"


def test_one_ranking_passes_through_and_equal_scores_do_not_divide_by_zero() -> None:
    assert fuse({"dense": {"a": 0.8, "b": 0.7}}, WEIGHTS) == {"a": 0.8, "b": 0.7}
    fused = fuse({"dense": {"a": 0.8, "b": 0.8}, "lexical": {}}, WEIGHTS)
    assert fused == {"a": pytest.approx(0.8), "b": pytest.approx(0.8)}


def test_the_service_fuses_as_settings_say_and_refuses_an_unknown_method(tmp_path: Path) -> None:
    assert Settings().fusion == "convex"
    with pytest.raises(ValueError, match="fusion"):
        Retriever(None, tmp_path, fusion="max")  # type: ignore[arg-type]
