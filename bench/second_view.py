"""What the heads' second view (``head_second_view = "use-m3"``) costs the encode stage per ticket.

The encode stage (engine/models/ticket_encoder.py) is timed as the pipeline runs it, on the same benchmark tickets
with the setting off and on, alternating so that a change in the machine's load hits both alike: single tickets
(the latency an API request pays) and batches of ``--batch-size`` (what `sift triage-file` and a busy service
run). Only the encode stage changes with the setting (the heads read 896 columns instead of 384: microseconds).

    .venv/bin/python -m bench.second_view                      # 200 tickets, a few minutes on 2 shared cores
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.measure import RESULTS_DIR, summary_ms, write_result
from bench.tickets import describe, draw_tickets
from engine.models.registry import ModelRegistry
from engine.models.ticket_encoder import TicketEncoder
from engine.settings import KnowledgeBase, Settings
from engine.stage import TicketState
from engine.types import Ticket

app = typer.Typer(add_completion=False)
VIEWS = ("none", "use-m3")


@app.command()
def main(
    tickets: Annotated[int, typer.Option(help="Benchmark tickets (bench/tickets.py's draw).")] = 200,
    singles: Annotated[int, typer.Option(help="Of those, how many are also encoded one at a time.")] = 60,
    batch_size: Annotated[int, typer.Option(help="Tickets per batch.")] = 64,
    results_dir: Annotated[Path, typer.Option(help="Where the JSON goes.")] = RESULTS_DIR,
) -> None:
    started = datetime.now(UTC)
    drawn = draw_tickets(tickets)
    base = ModelRegistry(Settings())
    stages = {}
    for view in VIEWS:
        registry = ModelRegistry(Settings(head_second_view=view, retrieval_second_view=view))
        registry.__dict__["encoder"] = base.encoder  # one e5 session for both
        stages[view] = TicketEncoder(registry)
        stages[view].warm_up()
        stages[view].run([state(drawn[0].plain_text())])  # first-call costs out of the timings

    batch_s = dict.fromkeys(VIEWS, 0.0)
    for start in range(0, len(drawn), batch_size):
        texts = [t.plain_text() for t in drawn[start : start + batch_size]]
        for view in VIEWS:
            batch = [state(t) for t in texts]
            began = time.perf_counter()
            stages[view].run(batch)
            batch_s[view] += time.perf_counter() - began
    single_s: dict[str, list[float]] = {v: [] for v in VIEWS}
    for ticket in drawn[:singles]:
        for view in VIEWS:
            began = time.perf_counter()
            stages[view].run([state(ticket.plain_text())])
            single_s[view].append(time.perf_counter() - began)

    record: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "tickets": describe(drawn),
        "batch_size": batch_size,
        "batch_ms_per_ticket": {v: round(1000 * batch_s[v] / len(drawn), 2) for v in VIEWS},
        "batch_tickets_per_s": {v: round(len(drawn) / batch_s[v], 1) for v in VIEWS},
        "single_ticket_ms": {v: summary_ms(single_s[v]) for v in VIEWS},
    }
    path = write_result(record, results_dir, "second_view-", started)
    table = Table("head_second_view", f"batch of {batch_size}: ms/ticket", "tickets/s", "single: p50 ms", "p95 ms",
                  title="encode stage")
    for view in VIEWS:
        single = record["single_ticket_ms"][view]
        table.add_row(view, f"{record['batch_ms_per_ticket'][view]:.1f}", f"{record['batch_tickets_per_s'][view]:.1f}",
                      f"{single['p50_ms']:.1f}", f"{single['p95_ms']:.1f}")
    Console().print(table)
    Console().print(f"wrote {path}")


def state(text: str) -> TicketState:
    """A ticket as the encode stage gets it; the encode stage reads no knowledge base."""
    kb = KnowledgeBase("bench", Path(), Path(), "", "")
    return TicketState(Ticket(text=text), "bench", kb)


if __name__ == "__main__":
    app()
