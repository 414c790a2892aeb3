"""`sift purge` and `sift forget`: counts on success, exit 2 with a message on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.privacy.keys import customer_key, data_key
from engine.settings import Settings, get_settings
from engine.store import TicketStore

runner = CliRunner()


@pytest.fixture()
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return get_settings()


def test_forget_customer_by_id(private: Settings) -> None:
    key = customer_key("cust-7", data_key(private.data_dir))
    store = TicketStore(private.database_path)
    store.accept([{"text": "a"}, {"text": "b"}, {"text": "c"}], [key, key, None])
    result = runner.invoke(app, ["forget", "--customer", "cust-7"])
    assert result.exit_code == 0, result.output
    assert "erased 2 of the customer's tickets" in result.output
    assert store.count() == 1


def test_forget_tickets_by_id(private: Settings) -> None:
    ids = TicketStore(private.database_path).accept([{"text": "a"}, {"text": "b"}])
    result = runner.invoke(app, ["forget", "--ticket", ids[0], "--ticket", ids[1]])
    assert result.exit_code == 0 and "erased 2 of the given tickets" in result.output


@pytest.mark.parametrize(
    "args",
    [["forget"], ["forget", "--customer", "x", "--ticket", "y"], ["forget", "--customer", "  "], ["forget", "--ticket", ""]],
)
def test_forget_refuses_bad_input_with_exit_2(private: Settings, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error" in result.output.lower() and "Traceback" not in result.output


def test_purge_prints_counts_and_refuses_a_bad_age(private: Settings) -> None:
    TicketStore(private.database_path).accept([{"text": "new"}])
    result = runner.invoke(app, ["purge"])
    assert result.exit_code == 0 and "erased 0 tickets" in result.output and "90 days" in result.output
    assert runner.invoke(app, ["purge", "--older-than-days", "0"]).exit_code == 2


def test_triage_file_refuses_an_unknown_customer_id_column(private: Settings, tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("text\nwhere is my parcel\n", encoding="utf-8")
    result = runner.invoke(
        app, ["triage-file", str(src), "--out", str(tmp_path / "o.jsonl"), "--customer-id-column", "cust"]
    )
    assert result.exit_code == 2 and "--customer-id-column" in result.output
