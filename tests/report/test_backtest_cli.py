"""`sift backtest` end to end: the real pipeline and heads on demo tickets with handmade dates and channels,
the ticket log replayed with an agent's correction, and bad input refused with exit code 2 and a message."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.settings import REPO_ROOT, get_settings
from engine.store import FeedbackStore, TicketStore
from engine.store.feedback import Feedback

QUEUES = {"account": "accounts", "billing": "billing", "delivery": "orders", "returns": "returns",
          "technical": "tech-support", "privacy": "privacy"}
SHARES = ("automation_share", "error_rate", "deflection_estimate", "risk_share")


def past_tickets(path: Path, every: int = 20) -> Path:
    """Demo tickets (every ``every``-th) as a helpdesk history: recorded topic and queue, a date and a channel."""
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["body", "subject", "topic", "queue", "language", "created", "via"])
        for i, r in enumerate(rows[::every]):
            writer.writerow([r["text"], r.get("subject") or "", r["topic"], QUEUES.get(r["topic"], "general"),
                             r["language"], f"2024-{1 + i % 3:02d}-{1 + i % 27:02d}T10:00:00Z",
                             ("email", "chat", "web")[i % 3]])
    return path


def check_consistent(report: dict[str, Any]) -> None:
    """Shares lie in [0, 1], each breakdown's groups add up to the whole, and the parts never exceed their whole."""
    n = report["tickets"]
    for group in [report["overall"], *(g for groups in report["by"].values() for g in groups)]:
        assert 0 <= group["wrong"] <= group["judged"] <= group["automated"] <= group["tickets"]
        assert group["deflected"] <= group["tickets"] and group["risk_handoffs"] <= group["tickets"]
        assert sum(group["risk_kinds"].values()) >= group["risk_handoffs"]
        for share in SHARES:
            assert group[share] is None or 0.0 <= group[share] <= 1.0
    for dimension, groups in report["by"].items():
        if groups:
            assert sum(g["tickets"] for g in groups) == n, dimension
            for count in ("automated", "judged", "wrong", "deflected", "risk_handoffs"):
                assert sum(g[count] for g in groups) == report["overall"][count], (dimension, count)


def _logged(registry: ModelRegistry) -> int:
    store = TicketStore(registry.settings.database_path)
    try:
        return len(store.processed())
    finally:
        store.close()


@pytest.mark.slow
def test_backtest_of_a_file_reports_consistent_figures(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    data = past_tickets(tmp_path / "past.csv")
    logged = _logged(ready_registry)
    columns = ["--text-column", "body", "--subject-column", "subject", "--topic-column", "topic", "--queue-column",
               "queue", "--language-column", "language", "--date-column", "created", "--channel-column", "via"]
    done = CliRunner().invoke(app, ["backtest", str(data), *columns, "--out", str(tmp_path / "b.json")])
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "b.json").read_text())
    tickets = len(data.read_text().splitlines()) - 1
    assert report["tickets"] == tickets and report["report"] == "backtest"
    check_consistent(report)
    assert report["source"]["recorded_outcomes"] == ["queue", "topic"] and report["source"]["dated"]
    assert [g["key"] for g in report["by"]["month"]] == ["2024-01", "2024-02", "2024-03"]
    assert {g["key"] for g in report["by"]["channel"]} == {"email", "chat", "web"}
    assert {g["key"] for g in report["by"]["queue"]} <= set(QUEUES.values()) | {"general"}
    topics = report["topics_by_month"]
    assert sum(map(sum, topics["topics"].values())) == tickets and topics["months"] == ["2024-01", "2024-02", "2024-03"]
    # The default heads learnt these very tickets: a replay that finds them mostly wrong reads the wrong field.
    overall = report["overall"]
    assert overall["judged"] > 0 and overall["error_rate"] < 0.5
    assert report["handoff_reasons"] and report["policy"]["answer_confidence"] == 0.5
    assert report["plots"] == ["rates-queue", "rates-channel", "rates-language", "rates-month", "topics-by-month",
                               "handoff-reasons"]
    assert "Deflection estimate" not in done.output and "backtest of past.csv" in done.output
    assert _logged(ready_registry) == logged  # replayed tickets stay out of the ticket log

    # Without --out the HTML and JSON land in the reports folder the console lists; --limit cuts the replay.
    again = CliRunner().invoke(app, ["backtest", str(data), "--text-column", "body", "--limit", "5"])
    assert again.exit_code == 0, again.output
    published = sorted(get_settings().reports_dir.glob("backtest-*"))
    assert {p.suffix for p in published} == {".html", ".json"}
    small = json.loads(next(p for p in published if p.suffix == ".json").read_text())
    assert small["tickets"] == 5 and small["by"]["month"] == [] and small["topics_by_month"] is None
    assert small["source"]["recorded_outcomes"] == [] and small["overall"]["error_rate"] is None
    page = next(p for p in published if p.suffix == ".html").read_text()
    assert "No dates" in page and page.count("<img ") == len(small["plots"])


@pytest.mark.slow
def test_backtest_replays_the_ticket_log_with_agents_corrections(
    ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    data = past_tickets(tmp_path / "past.csv", every=90)
    triaged = CliRunner().invoke(
        app, ["triage-file", str(data), "--text-column", "body", "--out", str(tmp_path / "triaged.jsonl")]
    )
    assert triaged.exit_code == 0, triaged.output
    store = TicketStore(get_settings().database)
    try:
        latest = store.processed()[-1]
    finally:
        store.close()
    feedback = FeedbackStore(get_settings().database)
    try:
        feedback.record(Feedback(latest[0], topic="billing"))
    finally:
        feedback.close()
    n = len(data.read_text().splitlines()) - 1
    done = CliRunner().invoke(app, ["backtest", "--from-log", "--limit", str(n), "--out", str(tmp_path / "log.json")])
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "log.json").read_text())
    check_consistent(report)
    assert report["tickets"] == n and report["data"] == "ticket log" and report["source"]["dated"]
    assert report["source"]["recorded_outcomes"] == ["topic"]
    assert len(report["by"]["month"]) >= 1 and report["topics_by_month"] is not None
    assert report["overall"]["judged"] <= 1  # only the corrected ticket has an outcome to compare against


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--queue-column", "team"], "no column 'team'"),
        (["--format", "xml"], "'xml' is not one of"),
        (["--out", "report.pdf"], "must end in .html or .json"),
        (["--from-log"], "not both"),
        (["--since", "2024-01-01"], "applies to the ticket log"),
        (["--ignore-reason", "bored"], "no rule hands off with 'bored'"),
        (["--policy", "/nonexistent/policy.yaml"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    data = tmp_path / "past.csv"
    data.write_text("text,queue\nMy hub is offline,tech-support\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["backtest", str(data), *args])
    assert done.exit_code == 2, done.output
    assert message in " ".join(done.output.split()) and "Traceback" not in done.output


def test_empty_and_unreadable_files_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    cases = [
        ([str(empty)], "holds no rows"),
        ([str(tmp_path / "missing.csv")], "does not exist"),
        ([str(empty), "--text-column", "x", "--format", "zendesk"], "exports name their own text"),
        (["--from-log", "--topic-column", "topic"], "applies to a file"),
    ]
    for args, message in cases:
        done = CliRunner().invoke(app, ["backtest", *args])
        assert done.exit_code == 2, (args, done.output)
        assert message in " ".join(done.output.split()), (args, done.output)
