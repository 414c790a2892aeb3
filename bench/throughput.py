"""Throughput, latency and memory of Sift against a naive peer pipeline, on the same tickets in one run.

    .venv/bin/python -m bench.throughput [--tickets 2000] [--latency-requests 300] [--data-dir var]
                                         [--encoder-path models/multilingual-e5-small/hf]

Phases, one after the other so that none competes with another for the cores:
  1. Sift in-process (own process): every ticket through the `sift triage-file` path in batches, then the
     encoder's forward pass for one ticket at a time (the latency floor).
  2. Sift over HTTP: `sift serve` on a scratch copy of the data directory; single-ticket POSTs, then a few
     /v1/triage/batch calls; the server's peak RSS is sampled throughout.
  3. The naive peer (own process): one ticket at a time, one model call per stage (see bench/peer.py).
Writes bench/results/<UTC timestamp>.json and prints a table with the issue's targets.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bench.measure import RESULTS_DIR, RssSampler, reporter, write_result
from bench.peer import default_encoder_path, is_checkpoint
from bench.report import check_targets, group_table, headline, latency_by_group, table
from bench.server import measure_api, prepare_data_dir
from bench.tickets import REPO_ROOT, describe, draw_tickets, write_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])
out = Console()
err = Console(stderr=True)


def _machine() -> dict[str, Any]:
    import psutil

    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "HEAD").strip() or None, "dirty": bool(git("status", "--porcelain").strip())}


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _run_worker(args: list[str], out_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """``python -m bench.worker ARGS`` with its memory sampled; its JSON result with a ``memory`` entry."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.worker", *args], cwd=REPO_ROOT, env=env)
    sampler = RssSampler(proc.pid).start()
    code = proc.wait()
    sampler.stop()
    if code != 0:
        raise RuntimeError(f"benchmark phase `{args[0]}` failed with exit code {code} (its output is above)")
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    memory = sampler.result()
    hwm = result.pop("kernel_hwm_mib", None)  # read by the worker itself just before it exited
    if hwm is not None:
        memory["kernel_hwm_mib"] = round(hwm, 1)
        memory["peak_rss_mib"] = round(max(memory["peak_rss_mib"], hwm), 1)
    result["memory"] = memory
    return result


def _problems(sift: dict[str, Any], api: dict[str, Any]) -> list[str]:
    """Why the figures do not measure full triage: a failed stage skips work and flatters Sift's speed."""
    problems = []
    if sift["batch"]["failed_stages"]:
        problems.append(f"stages failed in the in-process batch run: {sift['batch']['failed_stages']}")
    if api["failed_stages"]:
        problems.append(f"stages failed in API results: {api['failed_stages']}")
    if api["errors"] or (api.get("batch") or {}).get("errors"):
        problems.append(f"{api['errors']} single and {(api.get('batch') or {}).get('errors', 0)} batch requests failed")
    return problems


@app.command()
def main(
    tickets: Annotated[int, typer.Option("--tickets", min=1, help="Tickets drawn from shared/datasets.")] = 2000,
    latency_requests: Annotated[
        int, typer.Option("--latency-requests", min=1, help="Single-ticket POSTs for API latency (the first N).")
    ] = 300,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Prepared Sift data directory; copied, never written.")
    ] = REPO_ROOT / "var",
    encoder_path: Annotated[
        Path | None,
        typer.Option("--encoder-path", help="The peer's sentence-transformers checkpoint (default: hf/ in Sift's "
            "encoder_dir, where `sift models convert` puts it)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=256, help="Sift's batch size (sift triage-file's default).")] = 64,
    api_batch_tickets: Annotated[
        int, typer.Option(min=0, help="Tickets sent through /v1/triage/batch after the single requests (0: none).")
    ] = 256,
    peer_threads: Annotated[int, typer.Option(min=1, help="Torch/faiss threads for the peer (Sift's default: 2).")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the ticket draw.")] = 6,
    results_dir: Annotated[Path, typer.Option(help="Where the JSON result goes.")] = RESULTS_DIR,
) -> None:
    """Triage the same tickets with Sift (batch, and one at a time over HTTP) and with the naive peer."""
    data_dir = data_dir.resolve()
    encoder_path = (encoder_path or default_encoder_path()).resolve()
    if not is_checkpoint(encoder_path):
        err.print(
            f"[red]error:[/red] no sentence-transformers checkpoint at {encoder_path}: run `sift models convert` "
            "or pass --encoder-path"
        )
        raise typer.Exit(2)
    if not data_dir.is_dir():
        err.print(f"[red]error:[/red] data directory {data_dir} does not exist: run `bash scripts/setup.sh` first")
        raise typer.Exit(2)
    if latency_requests > tickets:
        err.print(f"[yellow]note:[/yellow] --latency-requests {latency_requests} > --tickets; using {tickets}")
        latency_requests = tickets

    started = datetime.now(UTC)
    machine, load = _machine(), {"start": _load()}
    if load["start"] and load["start"][0] > 0.5 * machine["cores"]:
        err.print(f"[yellow]note:[/yellow] load average {load['start'][0]} on {machine['cores']} cores: "
                  "figures will be noisy; run on an idle machine for the numbers you report")
    drawn = draw_tickets(tickets, seed)
    ticket_info = describe(drawn)
    err.print(f"tickets: {ticket_info['n']} {ticket_info['sources']} languages {ticket_info['languages']}")

    with tempfile.TemporaryDirectory(prefix="sift-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tickets_file = tmp / "tickets.jsonl"
        write_jsonl(drawn, tickets_file)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}

        err.print("[bold]1/3[/bold] Sift in-process: batch throughput, encoder floor")
        sift_env = {**env, "SIFT_DATA_DIR": str(prepare_data_dir(data_dir, tmp / "data-batch"))}
        sift = _run_worker(
            ["sift", str(tickets_file), str(tmp / "sift.json"), "--latency-tickets", str(latency_requests),
             "--batch-size", str(batch_size)],
            tmp / "sift.json",
            sift_env,
        )
        load["after_sift_batch"] = _load()

        err.print("[bold]2/3[/bold] Sift over HTTP: sift serve, single-ticket latency, peak RSS")
        reporters = {"single": reporter("API single"), "batch": reporter("API batch")}
        try:
            api = measure_api(
                drawn[:latency_requests],
                drawn[: min(api_batch_tickets, tickets)],
                prepare_data_dir(data_dir, tmp / "data-api"),
                tmp / "serve.log",
                batch_size=batch_size,
                progress=lambda phase, done, total: reporters[phase](done, total),
            )
        except RuntimeError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        load["after_api"] = _load()

        err.print("[bold]3/3[/bold] naive peer: one ticket at a time, one model call per stage")
        peer = _run_worker(
            ["peer", str(tickets_file), str(tmp / "peer.json"), "--encoder-path", str(encoder_path),
             "--threads", str(peer_threads)],
            tmp / "peer.json",
            env,
        )
        load["after_peer"] = _load()

    figures = headline(sift, api, peer)
    by_source = latency_by_group(
        api["latency"].get("each_ms", []),
        sift["encoder"].get("each_ms", []),
        [t.source for t in drawn[:latency_requests]],
    )
    targets = check_targets(figures)
    problems = _problems(sift, api)
    options = {"tickets": tickets, "latency_requests": latency_requests, "data_dir": str(data_dir),
               "encoder_path": str(encoder_path), "batch_size": batch_size,
               "api_batch_tickets": min(api_batch_tickets, tickets), "peer_threads": peer_threads, "seed": seed}
    record = {
        "benchmark": "bench.throughput",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "valid": not problems,
        "problems": problems,
        "options": options,
        "machine": machine,
        "load_average": load,
        "git": _git(),
        "tickets": ticket_info,
        "figures": figures,
        "targets": targets,
        "latency_by_source": by_source,
        "sift": {"in_process": sift, "api": api},
        "peer": peer,
    }
    path = write_result(record, results_dir, "", started)

    out.print(table(figures, targets, {**options, "cores": machine["cores"]}))
    out.print(group_table(by_source))
    for problem in problems:
        err.print(f"[red]invalid run:[/red] {problem}")
    out.print(f"written {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    if problems:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
