"""One setting, two values, single-ticket latency over HTTP: alternating server runs, paired by round.

Differences of a few milliseconds drown in the run-to-run drift of a shared 2-core machine (the encoder's own
time moved from 12.7 to 17.3 ms p50 between two benchmark runs of nearly the same code), so each round starts `sift serve` once
with each value, in alternating order, on the same tickets, and compares within the round.

    .venv/bin/python -m bench.setting_ab blas_threads 1 2 --rounds 4 --requests 120
"""

from __future__ import annotations

import os
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.measure import RESULTS_DIR, percentile, write_result
from bench.server import measure_api, prepare_data_dir
from bench.tickets import REPO_ROOT, draw_tickets

app = typer.Typer(add_completion=False)


def _by_source(seconds_ms: list[float], sources: list[str]) -> dict[str, float]:
    return {
        source: round(percentile([ms for ms, s in zip(seconds_ms, sources, strict=True) if s == source], 50), 2)
        for source in sorted(set(sources))
    }


def summarise(rounds: list[dict[str, dict[str, float]]], values: tuple[str, str]) -> dict[str, Any]:
    """Per source: the mean of each value's p50 over rounds, and in how many rounds the first value was faster."""
    a, b = values
    out: dict[str, Any] = {}
    for source in rounds[0][a]:
        first, second = [r[a][source] for r in rounds], [r[b][source] for r in rounds]
        out[source] = {
            f"{a} mean p50 ms": round(statistics.mean(first), 2),
            f"{b} mean p50 ms": round(statistics.mean(second), 2),
            f"rounds {a} faster": sum(x < y for x, y in zip(first, second, strict=True)),
            "rounds": len(rounds),
        }
    return out


@app.command()
def main(
    setting: Annotated[str, typer.Argument(help="a Sift setting, e.g. blas_threads (set as SIFT_<NAME>)")],
    first: Annotated[str, typer.Argument(help="one value")],
    second: Annotated[str, typer.Argument(help="the other value")],
    rounds: Annotated[int, typer.Option(min=1)] = 4,
    requests: Annotated[int, typer.Option(min=1, help="single-ticket requests per server run")] = 120,
    data_dir: Annotated[Path, typer.Option(help="prepared Sift data directory (copied, never written)")] = REPO_ROOT
    / "var",
    seed: int = 6,
    results_dir: Path = RESULTS_DIR,
) -> None:
    out, err = Console(), Console(stderr=True)
    started = datetime.now(UTC)
    variable = f"SIFT_{setting.upper()}"
    tickets = draw_tickets(requests, seed)
    sources = [t.source for t in tickets]
    values = (first, second)
    per_round: list[dict[str, dict[str, float]]] = []
    saved = os.environ.get(variable)
    try:
        with tempfile.TemporaryDirectory(prefix="sift-ab-") as tmp_name:
            tmp = Path(tmp_name)
            for r in range(rounds):
                result: dict[str, dict[str, float]] = {}
                for value in values if r % 2 == 0 else values[::-1]:
                    os.environ[variable] = value
                    err.print(f"round {r + 1}/{rounds}: {variable}={value}")
                    api = measure_api(
                        tickets, [], prepare_data_dir(data_dir, tmp / f"data-{r}-{value}"), tmp / "serve.log"
                    )
                    if api["errors"]:
                        err.print(f"[red]error:[/red] {api['errors']} requests failed; see the server log")
                        raise typer.Exit(1)
                    result[value] = _by_source(api["latency"]["each_ms"], sources)
                per_round.append(result)
    finally:
        if saved is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved

    summary = summarise(per_round, values)
    table = Table(title=f"{setting}: {first} against {second}, {rounds} paired rounds of {requests} requests")
    for heading in ("source", f"{first}, p50", f"{second}, p50", f"rounds {first} faster"):
        table.add_column(heading, justify="left" if heading == "source" else "right")
    for source, s in summary.items():
        table.add_row(
            source, f"{s[f'{first} mean p50 ms']:.1f} ms", f"{s[f'{second} mean p50 ms']:.1f} ms",
            f"{s[f'rounds {first} faster']} of {s['rounds']}",
        )
    out.print(table)
    record = {"benchmark": "bench.setting_ab", "setting": setting, "values": values, "requests": requests,
              "seed": seed, "rounds": per_round, "summary": summary}
    path = write_result(record, results_dir, f"setting_ab-{setting}-", started)
    out.print(f"written {path}")


if __name__ == "__main__":
    app()
