"""One benchmark phase in a process of its own, so that memory and threads of one side never touch the other.

Internal: ``bench.throughput`` starts ``python -m bench.worker sift|peer TICKETS OUT ...`` and reads OUT (JSON).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from bench.measure import high_water_mib, reporter

os.environ.setdefault("HF_HUB_OFFLINE", "1")
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Internal: run one benchmark phase.")


def _write(out: Path, result: dict[str, object]) -> None:
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@app.command()
def sift(
    tickets: Path,
    out: Path,
    latency_tickets: Annotated[int, typer.Option(min=0)] = 300,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
) -> None:
    """Sift in-process: batch throughput, then the encoder's time for one ticket (SIFT_DATA_DIR from the caller)."""
    from bench.sift_inproc import encoder_floor, run_sift_batch
    from bench.tickets import read_jsonl

    drawn = read_jsonl(tickets)
    batch = run_sift_batch(drawn, batch_size, progress=reporter("sift batch"))
    floor = encoder_floor(drawn[:latency_tickets])
    _write(out, {"batch": batch, "encoder": floor, "kernel_hwm_mib": high_water_mib()})


@app.command()
def peer(
    tickets: Path,
    out: Path,
    encoder_path: Annotated[Path, typer.Option()],
    threads: Annotated[int, typer.Option(min=1)] = 2,
    demo_limit: Annotated[int | None, typer.Option(min=1)] = None,
    sentiment_per_class: Annotated[int, typer.Option(min=1)] = 40,
) -> None:
    """The naive peer pipeline, one ticket at a time."""
    from bench.peer import run_peer
    from bench.tickets import read_jsonl

    result = run_peer(
        read_jsonl(tickets),
        encoder_path,
        threads=threads,
        progress=reporter("peer"),
        demo_limit=demo_limit,
        sentiment_per_class=sentiment_per_class,
    )
    _write(out, result)


if __name__ == "__main__":
    app()
