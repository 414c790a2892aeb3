"""eval/bitext_answers.py: its scoring, and its intent-to-article table against the shipped KB."""

from __future__ import annotations

import json

import pytest

from engine.kb import load_kb
from engine.settings import REPO_ROOT
from eval.bitext_answers import MAPPING, listed_quality, ranking_quality, score


def test_the_table_names_only_articles_the_shipped_kb_has() -> None:
    # A renamed or removed article would silently count every answer of its intents as wrong.
    families = {a.family for a in load_kb(REPO_ROOT / "kb_content")}
    table = json.loads(MAPPING.read_text(encoding="utf-8"))
    named = {family for answers in table["answered_by"].values() for family in answers}
    assert named and named <= families
    assert not set(table["answered_by"]) & set(table["not_scored"])


def test_confident_answers_are_scored_against_the_articles_that_answer_the_intent() -> None:
    ok = ["delivery-where-is-my-order"]
    outcomes = [
        ("delivery-where-is-my-order", ok),  # right
        ("delivery-change-address", ok),  # wrong article
        (None, ok),  # handed off
        ("returns-refund-timing", []),  # nothing answers this intent, yet an article was stood behind
        (None, []),  # rightly not answered
    ]
    assert score(outcomes) == {
        "requests": 5,
        "confident": 3,
        "right_among_confident": pytest.approx(1 / 3, abs=1e-4),
        "answerable_answered_right": pytest.approx(1 / 3, abs=1e-4),
        "answerable_answered_wrong": pytest.approx(1 / 3, abs=1e-4),
        "unanswerable_answered": 0.5,
    }


def test_ranking_quality_reads_the_order_not_the_cut() -> None:
    # (confidence, right, answerable): the two right answers carry the highest confidences.
    ranked = [(0.9, True, True), (0.8, True, True), (0.7, False, True), (0.2, False, False)]
    quality = ranking_quality(ranked)
    assert quality["auroc"] == 1.0
    assert quality["right_at_rank_1_of_answerable"] == pytest.approx(2 / 3, abs=1e-4)
    assert quality["answered_right_at_90_precision"] == 0.5  # the first two of four requests
    assert ranking_quality([(0.9, False, True), (0.8, True, True)])["answered_right_at_90_precision"] == 0.0


def test_the_help_centre_list_is_read_as_a_customer_sees_it() -> None:
    ok = ["delivery-where-is-my-order"]
    lists = [
        ([("delivery-where-is-my-order", 0.9), ("delivery-change-address", 0.2)], ok),  # listed first
        ([("delivery-change-address", 0.4), ("delivery-where-is-my-order", 0.3)], ok),  # listed, not first
        ([], ok),  # nothing listed
        ([("returns-refund-timing", 0.6)], []),  # nothing answers, yet a confident article was shown
    ]
    assert listed_quality(lists, threshold=0.5) == {
        "right_listed": pytest.approx(2 / 3, abs=1e-4),
        "right_first": pytest.approx(1 / 3, abs=1e-4),
        "mean_listed": 1.25,
        "unanswerable_shown_confident": 1.0,
    }
