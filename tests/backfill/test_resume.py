"""`sift triage-file` killed with SIGKILL mid-run, then run again with the same --out: each ticket exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from tests.backfill.helpers import assert_complete_once, kill_when_written, read_out, said, sift_process, ticket_file

runner = CliRunner()
N = 160
BATCH = 8


@pytest.mark.slow
def test_a_killed_run_resumes_and_writes_each_ticket_once(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    src = ticket_file(tmp_path / "tickets.jsonl", N, blank_every=25)
    out = tmp_path / "out.jsonl"
    args = ["triage-file", str(src), "--subject-column", "subject", "--out", str(out), "--batch-size", str(BATCH)]
    held = kill_when_written(sift_process(args), out, at_least=2 * BATCH)
    assert held < N
    with out.open("ab") as fh:  # as if the kill had landed inside a write: half a line at the end
        fh.write(b'{"row": 999, "ticket_id": "row-999-torn", "lang')

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dropped an unfinished last line" in said(result)
    assert f"{held} already there" in said(result)
    rows = assert_complete_once(out, N)
    assert sum("error" in r for r in rows) == N // 25

    again = runner.invoke(app, args)  # a finished output: nothing left to do, nothing appended
    assert again.exit_code == 0, again.output
    assert f"wrote 0 results to {out}; {N} already there" in said(again)
    assert len(read_out(out)) == N


@pytest.mark.slow
def test_no_resume_overwrites_and_a_foreign_output_is_refused(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    src = ticket_file(tmp_path / "tickets.jsonl", 4)
    out = tmp_path / "out.jsonl"
    out.write_text('{"row": 0, "ticket_id": "from-another-file"}\n', encoding="utf-8")
    refused = runner.invoke(app, ["triage-file", str(src), "--out", str(out)])
    assert refused.exit_code == 2
    assert "none of them for a row of this input" in said(refused) and "Traceback" not in refused.output

    fresh = runner.invoke(app, ["triage-file", str(src), "--out", str(out), "--no-resume"])
    assert fresh.exit_code == 0, fresh.output
    assert_complete_once(out, 4)

    lines = src.read_text(encoding="utf-8").splitlines()
    lines[1] = '{"text": "An edited ticket: my hub is offline again", "subject": ""}'
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    edited = runner.invoke(app, ["triage-file", str(src), "--out", str(out)])
    assert edited.exit_code == 0, edited.output
    assert "wrote 1 results" in said(edited) and "1 lines of" in said(edited) and "--no-resume" in said(edited)
    assert [r["row"] for r in read_out(out)] == [0, 1, 2, 3, 1]  # the edited row appended; the old line kept
