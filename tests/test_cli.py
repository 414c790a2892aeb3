"""The `sift` command as users run it: results as JSON, clean exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry

runner = CliRunner()


@pytest.mark.slow
def test_triage_prints_the_api_shape(ready_registry: ModelRegistry) -> None:
    result = runner.invoke(app, ["triage", "Mi pedido no ha llegado todavía y ya pasaron dos semanas"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["language"]["code"] == "es"
    assert {"sentiment", "urgency", "topic", "articles", "draft", "route", "handoff"} <= set(body)


@pytest.mark.slow
def test_triage_file_keeps_order_and_reports_empty_rows(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    src = tmp_path / "tickets.csv"
    src.write_text("id,body\n1,My hub is offline\n2,\n3,Ich möchte meine Rechnung als PDF\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["triage-file", str(src), "--text-column", "body", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in rows] == [0, 1, 2]
    assert rows[1]["error"]["field"] == "body"
    assert rows[2]["language"]["code"] == "de"
    assert "topic" in rows[0] and "handoff" in rows[0]


def test_triage_file_unknown_column_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("body\nhello\n", encoding="utf-8")
    result = runner.invoke(app, ["triage-file", str(src), "--text-column", "text", "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "no column 'text'" in result.output
    assert "Traceback" not in result.output


def test_train_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path / "nope.csv"), "--topic-column", "topic"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_train_malformed_jsonl_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "topic": "x"}\n{not json\n', encoding="utf-8")
    result = runner.invoke(app, ["train", str(bad), "--topic-column", "topic"])
    assert result.exit_code == 2
    assert "line 2" in result.output


def test_train_without_label_columns_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("text,topic\nhello,a\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(data)])
    assert result.exit_code == 2


def test_unknown_channel_exits_2() -> None:
    result = runner.invoke(app, ["triage", "hello there", "--channel", "fax"])
    assert result.exit_code == 2
    assert "--channel" in result.output


def test_unknown_form_of_address_exits_2() -> None:
    result = runner.invoke(app, ["triage", "hello there", "--customer-salutation", "frau"])
    assert result.exit_code == 2
    assert "--customer-salutation" in result.output


def test_activate_unknown_version_exits_2() -> None:
    result = runner.invoke(app, ["models", "activate", "topic", "nope"])
    assert result.exit_code == 2


def test_keys_are_created_listed_and_revoked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    created = runner.invoke(app, ["keys", "create", "--name", "zendesk", "--scope", "triage", "--scope", "feedback"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("sift_")
    listed = runner.invoke(app, ["keys", "list"])
    assert "zendesk" in listed.stdout and "triage" in listed.stdout and secret not in listed.stdout
    key_id = created.stdout.split()[2]
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code == 2 and "no active key" in again.output
    assert runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "root"]).exit_code == 2


def test_a_widget_key_is_created_with_its_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("engine.cli.out.width", 250)  # the origins whole in the table
    args = ["keys", "create", "--name", "shop", "--scope", "suggest", "--origin", "https://shop.example",
            "--origin", "https://help.shop.example"]
    created = runner.invoke(app, args)
    assert created.exit_code == 0, created.output
    assert "for pages on https://help.shop.example, https://shop.example" in " ".join(created.stdout.split())
    listed = runner.invoke(app, ["keys", "list"]).stdout
    assert "https://shop.example" in listed and "https://help.shop.example" in listed
    refused = runner.invoke(app, [*args[:5], "triage", "--origin", "https://shop.example"])
    assert refused.exit_code == 2 and "--origin" in refused.output


def test_serve_without_keys_refuses_a_public_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "no API keys exist" in result.output


def test_serve_refuses_fewer_than_one_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2 and "--workers must be at least 1" in result.output


def test_gaps_help_states_the_defaults_the_report_uses() -> None:
    # The options default to None so that `sift --help` does not import the report's models; the help says the value.
    from engine.report.gaps import DISTANCE_THRESHOLD, MAX_TICKETS, MIN_TICKETS

    result = runner.invoke(app, ["gaps", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for value in (MIN_TICKETS, MAX_TICKETS, DISTANCE_THRESHOLD):
        assert f"[default: {value}]" in text, value
