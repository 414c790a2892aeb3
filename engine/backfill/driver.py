"""The backfill loop: skip what the output already holds, batch the rest, run them, write results in input order.

The driver reads the input twice, lazily: once to count the rows and how many the output already holds (the
progress bar's total, and a check that ``--out`` belongs to this input), once to feed the runner. Results are
written in input order, whichever runner computed them, so an interrupted run's output is always a prefix of
the input's order minus nothing: a restart appends the rest, and the finished file reads as if it ran once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from engine.backfill.output import ResumableOutput
from engine.backfill.rows import Row
from engine.errors import InvalidInput


class Runner(Protocol):
    """Turns batches of rows into batches of output lines, one result batch per input batch, in the same order."""

    def run(self, batches: Iterator[list[Row]]) -> Iterator[list[str]]: ...


@dataclass(frozen=True)
class Summary:
    rows: int
    """Rows in the input."""
    already_done: int
    """Rows whose ticket id the output held before this run (skipped)."""
    written: int
    """Lines this run appended."""
    refused: int
    """Of those, rows refused (empty text)."""
    repeated: int
    """Rows skipped because an earlier row of the input has the same ticket id."""
    foreign: int
    """Lines the output held before this run for ticket ids this input lacks (rows edited or removed since)."""


class _Speed(ProgressColumn):
    """Tickets per second over rich's recent window (the bar's own ETA uses the same estimate)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} tickets/s" if task.speed else "- tickets/s", style="progress.data.speed")


def backfill_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Speed(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), console=console,
    )


def run_backfill(
    rows: Callable[[], Iterator[Row]],
    output: ResumableOutput,
    runner: Runner,
    batch_size: int,
    console: Console,
    description: str = "triaging",
) -> Summary:
    """Everything of ``rows()`` not yet in ``output`` through ``runner``, appended in input order."""
    total = held = 0
    for row in rows():
        total += 1
        held += row.ticket_id in output.done
    if output.done and not held and total:
        raise InvalidInput(
            "--out",
            f"{output.path} holds {len(output.done)} results, none of them for a row of this input; "
            "pass --no-resume to overwrite it, or choose another --out",
        )
    foreign = max(0, len(output.done) - held)
    counts = {"written": 0, "refused": 0, "repeated": 0}
    with backfill_progress(console) as bar:
        task = bar.add_task(description, total=total, completed=held)

        def batches() -> Iterator[list[Row]]:
            # Batches follow the input's grid (rows 0..B-1, B..2B-1, ...) whatever is skipped: a ticket's
            # batch-mates are the same on a resumed run, on Ray and in one process, and so are its results
            # (a text's embedding moves slightly with the texts sharing its encoder call: measured, not 0).
            batch: list[Row] = []
            skipped = 0
            for row in rows():
                if batch and row.row // batch_size != batch[0].row // batch_size:
                    yield batch
                    batch = []
                if row.ticket_id in output.done:
                    skipped += 1
                    continue
                output.done.add(row.ticket_id)  # taken now: a repeat later in the input is skipped
                counts["refused"] += row.error is not None
                batch.append(row)
            if batch:
                yield batch
            counts["repeated"] = skipped - held

        for lines in runner.run(batches()):
            output.append(lines)
            counts["written"] += len(lines)
            bar.update(task, completed=held + counts["written"])
        bar.update(task, completed=total)
    return Summary(total, held, counts["written"], counts["refused"], counts["repeated"], foreign)

