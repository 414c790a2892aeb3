"""`sift policy check` and `sift policy simulate` as a team lead runs them: clear findings, exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.settings import Settings

runner = CliRunner()
SHIPPED = Settings().routing_file


def test_check_accepts_the_shipped_policy() -> None:
    result = runner.invoke(app, ["policy", "check", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "valid routing policy" in result.output


def test_check_refuses_a_broken_policy_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("thresholds:\n  topic_confidence: 2\nqueues: {billing: billing}\nqueus: {}\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 2
    assert "line 2: error: thresholds.topic_confidence" in result.output
    assert "line 4: error: queus: unknown key" in result.output
    assert "Traceback" not in result.output


def test_check_reports_warnings_but_passes(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace("fallback_language: en", "fallback_language: fr")
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: fallback_language: 'fr' is not in agent_languages" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.yaml", "t.csv", "--topic-column", "topic"], "nope.yaml does not exist"),
        ([str(SHIPPED), "missing.csv", "--topic-column", "topic"], "missing.csv does not exist"),
        ([str(SHIPPED), "t.csv", "--topic-column", "label"], "no column 'label'"),
        ([str(SHIPPED), "t.csv", "--topic-column", "topic", "--queue-column", "q"], "no column 'q'"),
        ([str(SHIPPED), "t.csv", "--topic-column", "topic", "--ignore-reason", "nope"], "no rule hands off with 'nope'"),
        ([str(SHIPPED), "empty.csv", "--topic-column", "topic"], "no row of"),
    ],
)
def test_simulate_refuses_bad_input_before_loading_models(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("text,topic\nWhere is my parcel?,delivery\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("text,topic\n,delivery\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "simulate", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_simulate_prints_queues_languages_and_operating_points_per_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report as a team lead reads it, on ticket states as the models would leave them (no models loaded)."""
    from engine import bootstrap, pipeline
    from tests.route.test_simulate import state

    monkeypatch.chdir(tmp_path)
    rows = [("Where is my parcel?", "delivery", "en", state("delivery", 0.95)),
            ("Wo ist mein Paket?", "delivery", "de", state("delivery", 0.6, "de")),
            ("Ich will es zurückgeben.", "returns", "de", state("delivery", 0.6, "de")),
            ("Where is my refund?", "returns", "en", state("returns", 0.95))]
    data = tmp_path / "past.jsonl"
    data.write_text("".join(json.dumps({"text": t, "topic": y, "lang": la}) + "\n" for t, y, la, _ in rows), "utf-8")

    class Replayed:
        def __init__(self, *_: object) -> None:
            self.registry = None

        def states(self, tickets: list[object], ids: list[str]) -> list[object]:
            return [s for _, _, _, s in rows][: len(tickets)]

    monkeypatch.setattr(pipeline, "Pipeline", Replayed)
    monkeypatch.setattr(bootstrap, "ensure_ready", lambda registry: None)
    args = ["policy", "simulate", str(SHIPPED), str(data), "--topic-column", "topic", "--language-column", "lang"]
    report = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert report["queues"] == [
        {"queue": "orders", "tickets": 2, "automated": 2, "wrong": 0, "automation_rate": 1.0, "error_rate": 0.0},
        {"queue": "returns", "tickets": 2, "automated": 2, "wrong": 1, "automation_rate": 1.0, "error_rate": 0.5},
    ]
    assert {row["language"]: row["error_rate"] for row in report["languages"]} == {"de": 0.5, "en": 0.0}
    at_07 = next(p for p in report["operating_points"] if p["threshold"] == 0.7)
    assert at_07["coverage"] == 0.5 and {r["language"]: r["automated"] for r in at_07["languages"]} == {"de": 0, "en": 2}
    assert [p["threshold"] for p in report["answer_confidence_operating_points"]] == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    tables = runner.invoke(app, args, terminal_width=200)
    assert tables.exit_code == 0, tables.output
    lines = tables.output.splitlines()
    assert "│ returns │ all      │       2 │    100.0% │      50.0% │" in lines  # a queue's subtotal
    assert "│ all     │ de       │       2 │    100.0% │      50.0% │" in lines  # a language's
    assert "thresholds.topic_confidence: automated, per queue and language" in tables.output
    # German orders: automated up to the 0.60 cut, handed off from 0.70 on, where no error rate exists.
    assert "│ orders  │ de   │ 100% │ 100% │ 100% │ 100% │ 100% │   0% │   0% │   0% │" in lines
    assert "│ orders  │ de   │   0% │   0% │   0% │   0% │   0% │    - │    - │    - │" in lines
    assert "handoff reasons: none" in lines
    assert "thresholds.answer_confidence: error rate, per queue and language" in tables.output
    assert max(len(line) for line in lines if "│" in line) <= 80


@pytest.mark.slow
def test_simulate_replays_labelled_tickets(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    data = tmp_path / "past.jsonl"
    rows = [
        {"body": "Where is my parcel? I ordered it two weeks ago and it has not arrived.", "topic": "delivery", "lang": "en"},
        {"body": "I was charged twice for my subscription this month.", "topic": "billing", "lang": "en"},
        {"body": "Mein Paket ist immer noch nicht angekommen.", "topic": "delivery", "lang": "de"},
        {"body": "", "topic": "delivery", "lang": "en"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["policy", "simulate", str(SHIPPED), str(data), "--text-column", "body",
                                 "--topic-column", "topic", "--language-column", "lang", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["skipped_rows"] == 1 and report["overall"]["tickets"] == 3
    assert {(g["queue"], g["language"]) for g in report["groups"]} == {("orders", "en"), ("billing", "en"), ("orders", "de")}
    assert [p["threshold"] for p in report["operating_points"]] == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    coverages = [p["coverage"] for p in report["operating_points"]]
    assert coverages == sorted(coverages, reverse=True)  # a higher cut never automates more
    tables = runner.invoke(app, ["policy", "simulate", str(SHIPPED), str(data), "--text-column", "body",
                                 "--topic-column", "topic"])
    assert tables.exit_code == 0 and "operating points" in tables.output
