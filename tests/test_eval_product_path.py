"""The scoring eval/product_path.py applies to `sift triage-file` output: no model, no data set."""

from __future__ import annotations

import random
import re

import pytest
import typer
from typer.testing import CliRunner

from eval.product_path import (
    accuracy,
    below_floor,
    field_scores,
    handoff_rate,
    main,
    oos_recall,
    perturb,
    rejection_rate,
    stratified_split,
    top_alternative,
)


def row(label: str | None, alternatives: list[str], handoff: bool = False, confidence: float = 0.5) -> dict[str, object]:
    """One triage-file output row as the product writes it (only the fields the eval reads)."""
    return {
        "topic": {"label": label, "confidence": confidence,
                  "alternatives": [{"label": a, "probability": 0.5} for a in alternatives]},
        "handoff": {"required": handoff, "reasons": ["out_of_scope"] if label is None else []},
    }


def test_a_rejected_ticket_counts_wrong_even_when_its_best_guess_is_right() -> None:
    predicted = ["card_lost", None, "refund", None]
    truth = ["card_lost", "refund", "refund", "card_lost"]
    assert accuracy(predicted, truth) == 0.5
    assert rejection_rate(predicted) == 0.5


def test_a_null_truth_is_not_matched_by_a_null_prediction() -> None:
    # In-scope truth is never None; a None == None match must not sneak in as a right answer.
    assert accuracy([None], [None]) == 0.0  # type: ignore[list-item]


def test_out_of_scope_recall_is_the_share_rejected() -> None:
    assert oos_recall([None, None, "balance", None]) == 0.75
    assert oos_recall(["balance"]) == 0.0


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        accuracy(["a"], ["a", "b"])


def test_field_scores_read_labels_rejections_and_the_top_alternative() -> None:
    results = [row("a", ["a", "b"]), row(None, ["b", "a"], handoff=True), row(None, ["c"], handoff=True),
               {"row": 3, "error": {"field": "text", "message": "empty text"}}]
    truth = ["a", "b", "a", "a"]
    scores = field_scores(results, truth, "topic")
    assert scores == {"n": 4, "accuracy": 0.25, "rejected": 0.75, "top_alternative_accuracy": 0.5}
    assert top_alternative(results[3]) is None
    assert handoff_rate(results) == 0.5
    assert field_scores(results, truth, "topic", floor=0.3)["rejected_below_confidence_floor"] == 0.0


def test_rejections_under_the_confidence_floor_are_told_apart_from_the_scope_rules() -> None:
    results = [row(None, ["a"], confidence=0.2), row(None, ["a"], confidence=0.9), row("a", ["a"], confidence=0.25),
               {"row": 3, "error": {"field": "text", "message": "empty text"}}]
    assert below_floor(results, 0.3) == 0.25


def test_stratified_split_holds_out_a_fifth_of_each_class_and_never_a_lone_example() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"]
    train, test = stratified_split(labels, 0.2, seed=1)
    assert sorted(train + test) == list(range(len(labels)))
    held = [labels[i] for i in test]
    assert held.count("a") == 2 and held.count("b") == 1 and "c" not in held
    assert stratified_split(labels, 0.2, seed=1) == (train, test)


def test_perturbation_inserts_one_snippet_and_keeps_every_word() -> None:
    rng = random.Random(0)
    text = "I still have not received my new card"
    seen = set()
    for _ in range(40):
        noisy, kind = perturb(text, rng)
        seen.add(kind)
        assert len(noisy.split(" ")) > len(text.split(" "))
        assert [w for w in noisy.split(" ") if w in text.split(" ")] == text.split(" ")
        assert re.search(r"\d", noisy)
    assert seen == {"order", "date", "amount", "email"}


def test_an_unknown_tickets_protocol_is_refused_before_anything_runs() -> None:
    # A misspelt protocol must not cost a bootstrap and minutes of training before failing.
    app = typer.Typer()
    app.command()(main)
    result = CliRunner().invoke(app, ["--sets", "tickets", "--protocols", "en_to_fr"])
    assert result.exit_code != 0
    assert "en_to_fr" in result.output
