"""`sift policy check`'s findings, each on the line of the file where the mistake is."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.route.check import check_policy
from engine.settings import Settings

SHIPPED = Settings().routing_file.read_text(encoding="utf-8")
TOPICS = ["account", "billing", "delivery", "privacy", "returns", "technical"]


def test_the_shipped_policy_is_valid_without_warnings() -> None:
    policy, problems = check_policy(SHIPPED, TOPICS)
    assert policy is not None and problems == []


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        ("topic_confidence: 0.55", "topic_confidence: 1.55", "topic_confidence: 1.55", "thresholds.topic_confidence",
         "less than or equal to 1"),
        ("    billing: 0.7", "    billing: high", "billing: high", "thresholds.per_topic.billing", "valid number"),
        ("default_queue: general", "default_queue: general\ndefault_queu: x", "default_queu: x", "default_queu",
         "unknown key"),
        ("  fraud: {queue: fraud, min_urgency: high}", "  fraud: {queue: fraud, min_urgency: asap}", "min_urgency: asap",
         "risk.fraud.min_urgency", "min_urgency must be one of"),
        ("priority_waiting_hours: [24, 72]", "priority_waiting_hours: [24, -1]", "priority_waiting_hours",
         "priority_waiting_hours.1", "greater than 0"),
    ],
)
def test_schema_errors_name_their_line_and_path(old: str, new: str, needle: str, path: str, message: str) -> None:
    assert old in SHIPPED
    text = SHIPPED.replace(old, new)
    policy, problems = check_policy(text, TOPICS)
    assert policy is None
    [problem] = problems
    assert (problem.severity, problem.line, problem.path) == ("error", line_of(text, needle), path)
    assert message in problem.message
    assert str(problem).startswith(f"line {problem.line}: error: {path}")


def test_broken_yaml_names_its_line() -> None:
    text = "thresholds:\n  topic_confidence: 0.5\nqueues: {billing: billing\ndefault_queue: general\n"
    policy, [problem] = check_policy(text)
    assert policy is None and problem.line is not None and problem.line >= 3
    assert "not valid YAML" in problem.message


def test_a_policy_must_be_a_mapping() -> None:
    assert check_policy("- a\n- b\n")[1][0].message.startswith("the policy must be a mapping")


def test_mistakes_the_schema_lets_through_are_warned_about_on_their_line() -> None:
    text = SHIPPED.replace("  urgent: escalations\n", "  urgent: escalations\n  high: escalation\n").replace(
        "  billing: billing", "  billing: billing\n  refunds: billing"
    ).replace("escalate_urgency: [high, urgent]", "escalate_urgency: [high, urgnet]")
    policy, problems = check_policy(text, TOPICS)
    assert policy is None  # an urgency no ticket has is an error, not a warning
    errors = [(p.line, p.path) for p in problems if p.severity == "error"]
    assert errors == [(line_of(text, "urgnet"), "escalate_urgency.1")]
    _, warnings = check_policy(text.replace("urgnet", "urgent"), TOPICS)
    found = {(w.path, w.line) for w in warnings}
    assert ("queues.refunds", line_of(text, "refunds: billing")) in found  # no such topic: never fires
    assert ("urgency_queues.high", line_of(text, "high: escalation")) in found  # one letter from 'escalations'
    assert all(w.severity == "warning" for w in warnings)


def test_topics_are_not_checked_without_a_topic_head() -> None:
    text = SHIPPED.replace("  billing: billing", "  billing: billing\n  refunds: billing")
    assert check_policy(text, None)[1] == []


def test_the_example_file_in_the_docs_checks(tmp_path: Path) -> None:
    """The shipped file is what the docs point at; it stays loadable by start-up too."""
    from engine.route import load_policy

    path = tmp_path / "routing.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    assert load_policy(path).thresholds.per_topic["billing"] == 0.7
