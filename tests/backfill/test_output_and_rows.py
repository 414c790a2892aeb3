"""The backfill's bookkeeping without models: ticket ids, the streamed input, what a restart reads back."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from engine.backfill.driver import run_backfill
from engine.backfill.output import ResumableOutput
from engine.backfill.rows import Columns, Row, check_columns, derived_id, prepared
from engine.errors import InvalidInput


def _line(row: int, ticket_id: str, **rest: object) -> str:
    return json.dumps({"row": row, "ticket_id": ticket_id, **rest}, ensure_ascii=False)


def test_derived_ids_are_stable_and_tell_rows_and_texts_apart() -> None:
    assert derived_id(3, "Hallo", None, None) == derived_id(3, "Hallo", None, None)
    assert derived_id(3, "Hallo", None, None) != derived_id(4, "Hallo", None, None)
    assert derived_id(3, "Hallo", None, None) != derived_id(3, "Hallo!", None, None)
    assert derived_id(3, "Hallo", "Betreff", None) != derived_id(3, "Hallo", None, None)
    assert derived_id(0, "x", None, None).startswith("row-0-")


def test_rows_take_the_id_column_and_refuse_empty_text(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("key,body,subj\nT-1,My hub is offline,Hub\nT-2,,\n,Rechnung bitte,\n", encoding="utf-8")
    rows = list(prepared(src, Columns("body", "subj", None, "key"), "default"))
    assert [r.ticket_id for r in rows[:2]] == ["T-1", "T-2"]
    assert rows[2].ticket_id == derived_id(2, "Rechnung bitte", None, None)  # a blank id falls back
    assert rows[0].subject == "Hub" and rows[0].kb == "default"
    assert rows[1].error == {"field": "body", "message": "empty text"}


def test_rows_refuse_unknown_columns_and_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text('{"text": "a"}\n\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="no column 'key'"):
        check_columns(src, Columns("text", ticket_id="key"))
    with pytest.raises(InvalidInput, match="line 3 is not a JSON object"):
        list(prepared(src, Columns(), None))
    with pytest.raises(InvalidInput, match="unsupported file type"):
        list(prepared(tmp_path / "t.xlsx", Columns(), None))


def test_a_restart_drops_a_torn_last_line_and_keeps_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with ResumableOutput(out, resume=True) as first:
        first.append([_line(0, "a", topic="x"), _line(1, "b", topic="y")])
    with out.open("ab") as fh:
        fh.write(b'{"row": 2, "ticket_id": "c", "top')  # the write a kill -9 interrupted
    with ResumableOutput(out, resume=True) as again:
        assert again.done == {"a", "b"}
        assert again.dropped_torn_line
        again.append([_line(2, "c", topic="z")])
    assert [json.loads(line)["ticket_id"] for line in out.read_text().splitlines()] == ["a", "b", "c"]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_an_output_of_something_else_is_refused_and_no_resume_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "not ours"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="--no-resume"):
        ResumableOutput(out, resume=True)
    with ResumableOutput(out, resume=False) as fresh:
        assert fresh.done == set()
        fresh.append([_line(0, "a")])
    assert out.read_text() == _line(0, "a") + "\n"


def test_ids_with_quotes_read_back(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with ResumableOutput(out) as first:
        first.append([_line(0, 'say "hi" \\ there'), json.dumps({"ticket_id": "late", "row": 1})])
    with ResumableOutput(out) as again:
        assert again.done == {'say "hi" \\ there', "late"}


def test_the_node_plan_is_bounded_by_cores_then_by_memory() -> None:
    from bench.ray_backfill import _plan

    node = _plan(per_core=25.0, rss_mib=1792, cores=16, memory_gib=64)
    assert node["workers"] == 16 and node["workers_by_ram"] == 35
    assert node["tickets_per_s"] == 400.0 and node["hours_for_10M"] == 6.9
    small = _plan(per_core=25.0, rss_mib=1792, cores=16, memory_gib=16)  # RAM runs out first: (16 - 2) GiB / 1.75 GiB = 8 workers
    assert small["workers"] == 8 and small["tickets_per_s"] == 200.0


class _Batches:
    """A runner that triages nothing: it records the batches the driver forms and writes one line per row."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def run(self, batches: Iterator[list[Row]]) -> Iterator[list[str]]:
        for batch in batches:
            self.seen.append([r.row for r in batch])
            yield [_line(r.row, r.ticket_id) for r in batch]


def test_batches_keep_the_input_grid_when_a_resume_skips_rows_and_repeats_are_skipped(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    keys = [f"k{i}" for i in range(9)] + ["k5"]  # the last row repeats row 5's id
    src.write_text("key,text\n" + "".join(f"{k},ticket {i}\n" for i, k in enumerate(keys)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with ResumableOutput(out) as first:
        first.append([_line(0, "k0"), _line(1, "k1"), _line(2, "k2")])  # a run stopped after row 2

    def rows() -> Iterator[Row]:
        return prepared(src, Columns("text", ticket_id="key"), None)

    runner = _Batches()
    with ResumableOutput(out) as output:
        summary = run_backfill(rows, output, runner, 4, Console(file=io.StringIO()))
    assert runner.seen == [[3], [4, 5, 6, 7], [8]]  # row 3 alone: rows 0-3 are one batch on every run
    assert (summary.rows, summary.already_done, summary.written, summary.repeated) == (10, 3, 6, 1)
    assert [json.loads(line)["ticket_id"] for line in out.read_text().splitlines()] == [f"k{i}" for i in range(9)]
