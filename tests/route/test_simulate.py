"""Replaying labelled tickets under a policy: automation, errors and operating points, without the models."""

from __future__ import annotations

import pytest

from engine.route import load_policy
from engine.route.simulate import Truth, automated, operating_points, replay, with_threshold, with_topic_threshold
from engine.settings import Settings
from engine.stage import TicketState
from engine.types import ArticleHit, Draft, Handoff, LanguageResult, Prediction, SentimentResult, Ticket

POLICY = load_policy(Settings().routing_file)


def state(topic: str | None, confidence: float, language: str = "en", answer: float = 0.9) -> TicketState:
    """A ticket state as the pipeline leaves it: one confident article, a calm customer."""
    s = TicketState(Ticket(text="Where is my parcel?"), "t", Settings().kbs()["default"])
    s.language = LanguageResult(language, 0.99)
    s.sentiment = SentimentResult("neutral", 0.0, 0.8)
    s.topic = Prediction(topic, confidence)
    s.urgency = Prediction("normal", 0.8)
    s.articles = (ArticleHit("a", "A", "en", "s", "s", "snip", "body", 0.9, 0.9, answer_confidence=answer),)
    s.draft = Draft("Hi", language, ("a",))
    return s


def test_automation_and_errors_are_counted_per_queue_and_language() -> None:
    states = [
        state("delivery", 0.9),  # automated, right
        state("delivery", 0.9),  # automated, wrong: it was a returns ticket
        state("delivery", 0.4),  # low confidence: handed off
        state("returns", 0.9, "de"),  # automated, right
        state(None, 0.2),  # out of scope: handed off
    ]
    truths = [Truth("delivery"), Truth("returns"), Truth("delivery"), Truth("returns", language="de"), Truth("delivery")]
    result = replay(states, truths, POLICY)
    assert (result.overall.tickets, result.overall.automated, result.overall.wrong) == (5, 3, 1)
    assert result.overall.error_rate == pytest.approx(1 / 3)
    orders = result.groups[("orders", "en")]  # grouped where they belonged: delivery -> orders
    assert (orders.tickets, orders.automated, orders.wrong) == (3, 1, 0)
    assert result.groups[("returns", "en")].wrong == 1
    assert result.groups[("returns", "de")].automation_rate == 1.0
    assert result.reasons == {"low_topic_confidence": 1, "out_of_scope": 1}
    assert result.to_json()["overall"]["error_rate"] == 0.3333
    # Subtotals per queue and per language, as the issue asks: "per queue and language".
    assert (result.queues["returns"].tickets, result.queues["returns"].automated) == (2, 2)
    assert result.queues["returns"].error_rate == 0.5
    assert (result.languages["en"].tickets, result.languages["en"].automated, result.languages["en"].wrong) == (4, 2, 1)
    assert result.languages["de"].error_rate == 0.0
    report = result.to_json()
    assert report["queues"] == [
        {"queue": "orders", "tickets": 3, "automated": 1, "wrong": 0, "automation_rate": 0.3333, "error_rate": 0.0},
        {"queue": "returns", "tickets": 2, "automated": 2, "wrong": 1, "automation_rate": 1.0, "error_rate": 0.5},
    ]
    assert [row["language"] for row in report["languages"]] == ["de", "en"]


def test_a_labelled_queue_makes_a_wrong_queue_an_error() -> None:
    result = replay([state("delivery", 0.9)], [Truth("delivery", queue="shipping")], POLICY)
    assert result.overall.wrong == 1 and ("shipping", "en") in result.groups


def test_ignored_reasons_do_not_hand_off() -> None:
    states, truths = [state("delivery", 0.9, answer=0.1)], [Truth("delivery")]
    assert replay(states, truths, POLICY).overall.automated == 0
    assert replay(states, truths, POLICY, ["no_confident_article"]).overall.automated == 1
    assert automated(Handoff(True, ("stage_failed:risk",)), ["stage_failed:risk"])
    assert not automated(Handoff(True, ("stage_failed:risk", "fraud")), ["stage_failed:risk"])


def test_operating_points_trade_coverage_for_errors() -> None:
    confidences = [0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
    states = [state("delivery", c) for c in confidences]
    truths = [Truth("returns" if c < 0.6 else "delivery") for c in confidences]  # the unsure ones are the wrong ones
    points = operating_points(states, truths, POLICY, thresholds=(0.3, 0.5, 0.7))
    assert [p.automated for p in points] == [7, 5, 3]
    assert [p.error_rate for p in points] == [pytest.approx(3 / 7), pytest.approx(1 / 5), 0.0]
    first = points[0].to_json()
    assert {k: first[k] for k in ("threshold", "coverage", "error_rate", "automated")} == {
        "threshold": 0.3, "coverage": 1.0, "error_rate": 0.4286, "automated": 7
    }
    # The wrong ones belonged in returns: grouped where they belonged, every automated one of them wrong.
    assert [(g["queue"], g["automated"], g["error_rate"]) for g in first["groups"]] == [("orders", 4, 0.0), ("returns", 3, 1.0)]


def test_operating_points_are_kept_per_queue_and_language() -> None:
    """A cut can hand off one language's tickets while the overall figure barely moves: each point says so."""
    states = [state("delivery", 0.95) for _ in range(8)] + [state("delivery", 0.6, "de"), state("returns", 0.6, "de")]
    truths = [Truth("delivery") for _ in range(8)] + [Truth("delivery", language="de"), Truth("delivery", language="de")]
    low, high = operating_points(states, truths, POLICY, thresholds=(0.5, 0.7))
    assert (low.coverage, high.coverage) == (1.0, 0.8)
    assert low.replay.languages["de"].automation_rate == 1.0 and low.replay.languages["de"].error_rate == 0.5
    assert high.replay.languages["de"].automation_rate == 0.0 and high.replay.languages["de"].error_rate is None
    assert high.replay.groups[("orders", "en")].automation_rate == 1.0
    assert {row["language"]: row["automated"] for row in high.to_json()["languages"]} == {"de": 0, "en": 8}


def test_answer_confidence_has_operating_points_too() -> None:
    states = [state("delivery", 0.9, answer=a) for a in (0.2, 0.45, 0.65, 0.9)]
    points = operating_points(states, [Truth("delivery")] * 4, POLICY, thresholds=(0.3, 0.6), name="answer_confidence")
    assert [p.automated for p in points] == [3, 2] and all(p.name == "answer_confidence" for p in points)
    assert with_threshold(POLICY, "answer_confidence", 0.6).thresholds.answer_confidence == 0.6
    with pytest.raises(ValueError, match="no operating points for thresholds.risk"):
        with_threshold(POLICY, "risk", 0.5)


def test_a_threshold_variant_keeps_per_topic_cuts() -> None:
    variant = with_topic_threshold(POLICY, 0.1)
    assert variant.thresholds.topic_confidence == 0.1
    assert variant.thresholds.topic_threshold("billing") == POLICY.thresholds.per_topic["billing"]
    assert POLICY.thresholds.topic_confidence == 0.55  # the policy itself is unchanged


def test_states_and_labels_must_pair_up() -> None:
    with pytest.raises(ValueError, match="1 ticket states for 2 labels"):
        replay([state("delivery", 0.9)], [Truth("delivery"), Truth("returns")], POLICY)
