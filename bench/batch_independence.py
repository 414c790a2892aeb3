"""Does a ticket get the same triage alone as in a batch? ``encoder_batch_independent`` on and off, in one run.

The int8 encoder scales its activations per call, so with several texts a call a ticket's vector depends on the
tickets beside it: a live ticket (alone) and the same ticket in ``sift triage-file``, ``sift backtest`` or among
concurrent requests could get a different article or handoff. For each value of the setting this triages the
same benchmark tickets through the CLI's service twice, in batches of 64 and one at a time, and counts the
tickets whose fields users read differ between the two, with the batch throughput each value costs.

    .venv/bin/python -m bench.batch_independence --tickets 600   # about 3 minutes on 2 idle cores
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.measure import RESULTS_DIR, write_result
from bench.server import prepare_data_dir
from bench.tickets import REPO_ROOT, BenchTicket, describe, draw_tickets

app = typer.Typer(add_completion=False)
BATCH = 64
FIELDS: dict[str, Callable[[Any], object]] = {
    "language": lambda r: r.language.code,
    "topic": lambda r: r.topic.label,
    "urgency": lambda r: r.urgency.label,
    "top article": lambda r: r.articles[0].id if r.articles else None,
    "top section": lambda r: (r.articles[0].id, r.articles[0].section) if r.articles else None,
    "queue": lambda r: r.route.queue,
    "handoff": lambda r: r.handoff.required,
    "draft quotes": lambda r: bool(r.draft.citations),
}


def triage_both_ways(tickets: list[BenchTicket]) -> dict[str, Any]:
    """The same tickets in batches and one at a time through the service ``sift triage-file`` builds."""
    from engine.cli import _service
    from engine.settings import get_settings
    from engine.types import Ticket

    get_settings.cache_clear()
    requests = [Ticket(text=t.text, subject=t.subject or None) for t in tickets]
    with _service() as service:
        service.triage(requests[:8])  # warm-up
        started = time.perf_counter()
        batched = [r for i in range(0, len(requests), BATCH) for r in service.triage(requests[i : i + BATCH])]
        batch_s = time.perf_counter() - started
        started = time.perf_counter()
        alone = [service.triage([ticket])[0] for ticket in requests]
        alone_s = time.perf_counter() - started
    differ = {name: sum(read(a) != read(b) for a, b in zip(batched, alone, strict=True)) for name, read in FIELDS.items()}
    confidence = [
        abs((a.articles[0].answer_confidence if a.articles else 0.0) - (b.articles[0].answer_confidence if b.articles else 0.0))
        for a, b in zip(batched, alone, strict=True)
    ]
    return {
        "differ": differ,
        "any_field_differs": sum(
            any(read(a) != read(b) for read in FIELDS.values()) for a, b in zip(batched, alone, strict=True)
        ),
        "max_answer_confidence_change": round(max(confidence), 4),
        "batch_tickets_per_s": round(len(tickets) / batch_s, 2),
        "alone_tickets_per_s": round(len(tickets) / alone_s, 2),
    }


@app.command()
def main(
    tickets: Annotated[int, typer.Option(min=1, help="benchmark tickets (Bitext and tickets-multilang)")] = 400,
    data_dir: Annotated[Path, typer.Option(help="prepared Sift data directory (copied, never written)")] = REPO_ROOT
    / "var",
    results_dir: Annotated[Path, typer.Option()] = RESULTS_DIR,
    seed: int = 6,
) -> None:
    console = Console()
    started = datetime.now(UTC)
    drawn = draw_tickets(tickets, seed)
    runs: dict[str, Any] = {}
    saved = {k: os.environ.get(k) for k in ("SIFT_DATA_DIR", "SIFT_ENCODER_BATCH_INDEPENDENT")}
    try:
        for value in ("true", "false"):
            with tempfile.TemporaryDirectory() as scratch:
                os.environ["SIFT_DATA_DIR"] = str(prepare_data_dir(data_dir, Path(scratch) / "data"))
                os.environ["SIFT_ENCODER_BATCH_INDEPENDENT"] = value
                console.print(f"encoder_batch_independent = {value}: {len(drawn)} tickets in batches, then alone")
                runs[value] = triage_both_ways(drawn)
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
    table = Table(title=f"{len(drawn)} tickets: batched ({BATCH}) against alone")
    table.add_column("")
    for value in runs:
        table.add_column(f"encoder_batch_independent {value}", justify="right")
    for name in FIELDS:
        table.add_row(f"{name} differs", *(str(run["differ"][name]) for run in runs.values()))
    for key in ("any_field_differs", "max_answer_confidence_change", "batch_tickets_per_s", "alone_tickets_per_s"):
        table.add_row(key.replace("_", " "), *(str(run[key]) for run in runs.values()))
    console.print(table)
    record = {"started_at": started.isoformat(), "tickets": describe(drawn), "batch_size": BATCH, "runs": runs}
    console.print(f"wrote {write_result(record, results_dir, 'batch_independence-', started)}")


if __name__ == "__main__":
    app()
