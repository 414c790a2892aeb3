"""Backfill throughput: `sift triage-file` in one process against `--ray` with 1 and 2 workers, same tickets.

    .venv/bin/python -m bench.ray_backfill [--tickets 2000] [--workers 1,2] [--batch-size 64] [--kill-tickets 500]
                                           [--data-dir var] [--plan-cores 16] [--plan-memory-gib 64]

Each run is the real command in a process of its own, on a scratch copy of the data directory (empty ticket
log), one after the other. Throughput is read off the output file as it grows: tickets/s from the moment it
holds 10 % of the tickets to the end, so model loading (once per process, once per Ray worker) is left out and
reported apart as the time to the first 10 %. Ray workers' resident memory is sampled by process (they are
the ``ray::TriageWorker`` processes under the driver's local Ray).

The single-process run uses the settings' encoder_threads (default 2); a Ray run with W workers sets
encoder_threads to cores / W, so W workers share the machine's cores rather than oversubscribe them. CPU time
(user + system of every process of the run, Ray's included) per ticket is recorded too: on a shared machine the
wall clock says how much of the box a run got, CPU time what the work costs, and the per-core plan uses it.
Then the kill -9 runs (``--kill-tickets``): a Ray worker killed at 30 % written, the Ray driver killed at 30 % and
the command run again, the single process likewise; each output checked for every ticket exactly once.
Writes bench/results/ray_backfill-<UTC time>.json and prints a table with the 10-million-ticket planning figure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.measure import MIB, RESULTS_DIR, write_result
from bench.server import prepare_data_dir
from bench.tickets import REPO_ROOT, describe, draw_tickets, write_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])
out = Console()
PLAN_TICKETS = 10_000_000
STEADY_FROM = 0.10
NODE_RESERVE_GIB = 2.0
"""Memory left on a node for the OS, the raylet and the object store's working set."""


class _Watch:
    """Samples a run: output lines over time, and the peak RSS of the driver and of each Ray worker process."""

    def __init__(self, pid: int, out_path: Path, interval_s: float = 0.2) -> None:
        self.pid, self.out_path, self.interval = pid, out_path, interval_s
        self.lines: list[tuple[float, int, float]] = []
        self.cpu: dict[int, float] = {}
        self.driver_peak = 0
        self.worker_peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        import psutil

        driver = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                self.driver_peak = max(self.driver_peak, driver.memory_info().rss)
                tree = [driver, *driver.children(recursive=True)]
                for proc in tree:
                    try:
                        times = proc.cpu_times()
                        self.cpu[proc.pid] = times.user + times.system
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
                for child in tree[1:]:
                    try:
                        if child.cmdline()[:1] and child.cmdline()[0].startswith("ray::TriageWorker"):
                            rss = child.memory_info().rss
                            self.worker_peaks[child.pid] = max(self.worker_peaks.get(child.pid, 0), rss)
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
            except psutil.NoSuchProcess:
                return
            count = self.out_path.read_bytes().count(b"\n") if self.out_path.exists() else 0
            self.lines.append((time.perf_counter(), count, sum(self.cpu.values())))
            self._stop.wait(self.interval)

    def __enter__(self) -> _Watch:
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _launch(
    args: list[str], env: dict[str, str], data: Path, work: Path, out_path: Path, tickets: str = "tickets.jsonl"
) -> subprocess.Popen[bytes]:
    """`sift triage-file` on the bench's tickets, in a session of its own (so that its local Ray can be reaped)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import app; app()", "triage-file", str(work / tickets),
         "--subject-column", "subject", "--out", str(out_path), *args],
        cwd=REPO_ROOT, env={**env, "SIFT_DATA_DIR": str(data)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _check(name: str, proc: subprocess.Popen[bytes], output: bytes, out_path: Path, n: int) -> list[dict[str, Any]]:
    """The run's output: every ticket exactly once, in input order, or the run is reported as failed."""
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{output.decode(errors='replace')[-3000:]}")
    lines = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    ids = [r["ticket_id"] for r in lines]
    if len(lines) != n or len(set(ids)) != n or [r["row"] for r in lines] != list(range(n)):
        raise RuntimeError(f"{name}: {len(lines)} lines, {len(set(ids))} distinct ids for {n} tickets")
    return lines


def _run(name: str, args: list[str], env: dict[str, str], n: int, work: Path) -> dict[str, Any]:
    out_path = work / f"{name}.jsonl"
    data = prepare_data_dir(Path(env["SIFT_DATA_DIR"]), work / f"data-{name}")
    proc = _launch(args, env, data, work, out_path)
    with _Watch(proc.pid, out_path) as watch:
        output, _ = proc.communicate()
        ended = time.perf_counter()
    lines = _check(name, proc, output, out_path, n)
    start_at, start_count, start_cpu = next(x for x in watch.lines if x[1] >= STEADY_FROM * n)
    steady = (n - start_count) / (ended - start_at)
    # CPU seconds a ticket costs, every process of the run counted (driver, Ray's raylet and GCS, workers):
    # what a loaded, shared machine distorts least. The last sample is at most one interval before the end.
    cpu_per_ticket = (watch.lines[-1][2] - start_cpu) / max(watch.lines[-1][1] - start_count, 1)
    workers = sorted(watch.worker_peaks.values())
    return {
        "args": args,
        "wall_s": round(ended - watch.started, 1),
        "to_first_10pct_s": round(start_at - watch.started, 1),
        "tickets_per_s": round(steady, 1),
        "end_to_end_tickets_per_s": round(n / (ended - watch.started), 1),
        "cpu_ms_per_ticket": round(cpu_per_ticket * 1000, 1),
        "tickets_per_cpu_s": round(1 / cpu_per_ticket, 1),
        "driver_peak_rss_mib": round(watch.driver_peak / MIB),
        "worker_processes": len(workers),
        "worker_peak_rss_mib": [round(w / MIB) for w in workers],
        "failed_stages": sum(bool(r.get("failed_stages")) for r in lines),
    }


def _killed(name: str, victim: str, args: list[str], env: dict[str, str], n: int, work: Path) -> dict[str, Any]:
    """A run with ``victim`` ("worker": one Ray worker; "driver": the `sift` process) SIGKILLed at 30 % written,
    then, for the driver, the same command again: lines, distinct ids, wall time of it all."""
    import psutil

    out_path = work / f"{name}.jsonl"
    data = prepare_data_dir(Path(env["SIFT_DATA_DIR"]), work / f"data-{name}")
    started = time.perf_counter()
    proc = _launch(args, env, data, work, out_path, "kill-tickets.jsonl")
    record: dict[str, Any] = {"args": args, "victim": victim, "tickets": n}
    with _Watch(proc.pid, out_path) as watch:
        while (out_path.read_bytes().count(b"\n") if out_path.exists() else 0) < 0.3 * n:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} ended before the kill: {proc.communicate()[0].decode()[-2000:]}")
            time.sleep(0.05)
        if victim == "worker":
            alive = [pid for pid in watch.worker_peaks if psutil.pid_exists(pid)]
            os.kill(alive[0], signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        record["lines_at_kill"] = out_path.read_bytes().count(b"\n")
        output, _ = proc.communicate()
    if victim == "driver":
        time.sleep(2)
        left = [p for p in psutil.process_iter(["pid"]) if _in_session(p, proc.pid)]
        record["processes_left_after_driver_kill"] = sorted(_name(p) for p in left)
        for p in left:  # the local Ray the killed driver had started, if it outlived it: a crashed machine's state
            p.kill()
        proc = _launch(args, env, data, work, out_path, "kill-tickets.jsonl")
        output, _ = proc.communicate()
    lines = _check(name, proc, output, out_path, n)
    record.update({
        "lines": len(lines), "distinct_ticket_ids": len({r["ticket_id"] for r in lines}),
        "worker_processes_seen": len(watch.worker_peaks), "wall_s": round(time.perf_counter() - started, 1),
    })
    return record


def _name(proc: Any) -> str:
    try:
        return str(proc.name())
    except Exception:
        return "?"


def _in_session(proc: Any, session: int) -> bool:
    try:
        return os.getsid(proc.pid) == session
    except OSError:
        return False


def _plan(per_core: float, rss_mib: float, cores: int, memory_gib: float) -> dict[str, Any]:
    """A node's workers (one single-threaded worker per core, fewer if RAM runs out first), tickets/s, hours for 10 M.

    Linear in workers: they share nothing but the driver, which only writes lines (see docs/results.md).
    """
    by_ram = int((memory_gib - NODE_RESERVE_GIB) * 1024 // rss_mib)
    workers = max(1, min(cores, by_ram))
    rate = workers * per_core
    return {
        "cores": cores, "memory_gib": round(memory_gib, 1), "workers": workers, "workers_by_ram": by_ram,
        "tickets_per_s": round(rate, 1), "hours_for_10M": round(PLAN_TICKETS / rate / 3600, 1),
    }


@app.command()
def main(
    tickets: Annotated[int, typer.Option(min=20, help="Tickets drawn from shared/datasets.")] = 2000,
    workers: Annotated[str, typer.Option(help="Ray worker counts to run, comma-separated.")] = "1,2",
    batch_size: Annotated[int, typer.Option(min=1, max=1024)] = 64,
    kill_tickets: Annotated[
        int, typer.Option(min=0, help="Tickets of the kill -9 runs (a worker killed; the driver killed, then rerun); 0: none.")
    ] = 500,
    data_dir: Annotated[
        Path, typer.Option(help="Prepared Sift data directory (index, heads); copied per run, never written.")
    ] = REPO_ROOT / "var",
    plan_cores: Annotated[int, typer.Option(help="Cores of the node the 10 M plan is for.")] = 16,
    plan_memory_gib: Annotated[float, typer.Option(help="Memory of that node.")] = 64.0,
    results_dir: Annotated[Path, typer.Option(help="Where the JSON result goes.")] = RESULTS_DIR,
) -> None:
    """Run the single-process baseline, then each Ray worker count, on the same tickets; then the kill -9 runs."""
    import psutil

    started = datetime.now(UTC)
    counts = [int(w) for w in workers.split(",") if w.strip()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    drawn = draw_tickets(max(tickets, kill_tickets))
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir.resolve()), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    runs: dict[str, Any] = {}
    kills: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sift-ray-bench-") as tmp:
        work = Path(tmp)
        write_jsonl(drawn[:tickets], work / "tickets.jsonl")
        write_jsonl(drawn[:kill_tickets], work / "kill-tickets.jsonl")
        load_before = os.getloadavg()
        runs["single"] = _run("single", ["--batch-size", str(batch_size)], env, tickets, work)
        out.print(f"single process: {runs['single']['tickets_per_s']} tickets/s")
        for w in counts:
            threads = max(1, cores // w)
            run_env = {**env, "SIFT_ENCODER_THREADS": str(threads)}
            args = ["--batch-size", str(batch_size), "--ray", "--workers", str(w)]
            runs[f"ray_{w}"] = {**_run(f"ray-{w}", args, run_env, tickets, work), "encoder_threads": threads}
            out.print(f"Ray, {w} worker(s): {runs[f'ray_{w}']['tickets_per_s']} tickets/s")
        load_after = os.getloadavg()
        if kill_tickets:
            w = max(counts)
            kill_env = {**env, "SIFT_ENCODER_THREADS": str(max(1, cores // w))}
            args = ["--batch-size", str(batch_size), "--ray", "--workers", str(w)]
            kills["ray_worker"] = _killed("kill-worker", "worker", args, kill_env, kill_tickets, work)
            kills["ray_driver"] = _killed("kill-driver", "driver", args, kill_env, kill_tickets, work)
            kills["single_driver"] = _killed("kill-single", "driver", ["--batch-size", str(batch_size)], env,
                                             kill_tickets, work)
            for name, k in kills.items():
                out.print(f"kill -9 {name}: {k['lines']} lines, {k['distinct_ticket_ids']} ids for {k['tickets']} tickets")

    # Per core: the run with every core busy (workers x encoder_threads = cores). Measured by the wall clock
    # on this (shared) machine, and by CPU time: what one core triages when its worker has it to itself.
    full = runs[f"ray_{max(counts)}"]
    per_core_wall = full["tickets_per_s"] / cores
    per_core = full["tickets_per_cpu_s"]
    rss = max((m for r in runs.values() for m in r.get("worker_peak_rss_mib", [])), default=1024)
    record = {
        "started": started.isoformat(),
        "machine": {"cores": cores, "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after]},
        "tickets": describe(drawn[:tickets]),
        "batch_size": batch_size,
        "runs": runs,
        "kills": kills,
        "per_core_tickets_per_s_wall": round(per_core_wall, 1),
        "per_core_tickets_per_s_cpu": round(per_core, 1),
        "ray_vs_single": round(full["tickets_per_s"] / runs["single"]["tickets_per_s"], 2),
        "plan": {
            "this_machine": _plan(per_core, rss, cores, psutil.virtual_memory().total / 2**30),
            "node": _plan(per_core, rss, plan_cores, plan_memory_gib),
        },
    }
    path = write_result(record, results_dir, "ray_backfill-", started)
    table = Table("run", "tickets/s (steady)", "CPU ms/ticket", "to 10 % (s)", "worker RSS (MiB)", "driver RSS (MiB)")
    for name, r in runs.items():
        table.add_row(name, str(r["tickets_per_s"]), str(r["cpu_ms_per_ticket"]), str(r["to_first_10pct_s"]),
                      ", ".join(map(str, r["worker_peak_rss_mib"])) or "-", str(r["driver_peak_rss_mib"]))
    out.print(table)
    node = record["plan"]["node"]
    out.print(
        f"plan: {per_core:.1f} tickets per CPU-second (Ray, {max(counts)} workers on {cores} cores; "
        f"{per_core_wall:.1f} tickets/s per core by the wall clock here, load {load_before[0]:.1f}); a {plan_cores}-core "
        f"{plan_memory_gib:g} GiB node runs {node['workers']} workers (RAM allows {node['workers_by_ram']} at "
        f"{rss:.0f} MiB each) = {node['tickets_per_s']} tickets/s: {node['hours_for_10M']} h for 10 M tickets"
    )
    out.print(f"wrote {path}")


if __name__ == "__main__":
    app()
