"""Open-loop load on a real `sift serve` (one process or ``--workers N``): saturation, then a long hold (issue #20).

    .venv/bin/python -m bench.load --workers 1 --duration 600
    .venv/bin/python -m bench.load --workers 2 --duration 600

1. ``sift serve --workers N`` on a scratch copy of the data directory (empty ticket log) and a free loopback port.
2. Requests arrive as a Poisson process at a target rate, whether or not earlier ones were answered (open loop: a
   slow server meets the same arrivals, so queueing shows in latency instead of slowing the generator down). Each
   is a triage (POST /v1/triage, a real ticket: Bitext requests and tickets-multilang e-mails) or, with
   ``--suggest-share``, an article suggestion (GET /v1/articles/suggest with the ticket's subject or first line).
   Latency runs from the arrival's scheduled time to the whole answer read, so a generator that falls behind
   shows it too.
3. Saturation: steps of ``--step-s`` seconds at rising rates (``--start-rate`` times ``--rate-factor`` each step);
   a step is over capacity when it has an error, when fewer than 90% of its requests are answered within it
   (the queue grows), or when its p50 exceeds ``--p50-limit`` times the first step's. ``--refine`` bisections
   between the last good and the first bad rate follow; the highest rate that held is the saturation rate.
   ``--rate`` skips the search.
4. The hold: ``--duration`` seconds at ``--hold-fraction`` (0.9) of the saturation rate: held exactly at the
   searched rate for 10 minutes, a queue growing too slowly for a 20 s step to show timed requests out. Errors (any non-200 answer, timeouts and broken
   connections; the API has no 429/503 in open mode once ready, so any is a failure), p50/p95/p99 latency,
   achieved rate, and the resident memory of every server process at the hold's start and end, its maximum, and
   each process's USS/PSS at the end (what it holds alone, and its share of what the processes share).
Writes bench/results/load-<UTC timestamp>.json and prints the figures; exits 1 if the hold had any error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import MIB, RESULTS_DIR, percentile, write_result
from bench.server import free_port, prepare_data_dir, wait_ready
from bench.tickets import REPO_ROOT, BenchTicket, draw_tickets

TIMEOUT_S = 60.0
READY_STREAK = 20  # answers of 200 from /readyz in a row, each on a new connection: every worker is ready


@dataclass
class Step:
    """What one phase (a search step or the hold) sent and got back."""

    rate: float
    seconds: float
    sent: int = 0
    answered_in_time: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def figures(self) -> dict[str, Any]:
        ms = [s * 1000 for s in self.latencies]
        lat = {f"p{q}_ms": round(percentile(ms, q), 1) for q in (50, 95, 99)} if ms else {}
        lat["max_ms"] = round(max(ms), 1) if ms else None
        return {
            "target_rate": round(self.rate, 2),
            "seconds": round(self.seconds, 1),
            "sent": self.sent,
            "answered": len(self.latencies),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "by_kind": self.kinds,
            "achieved_rate": round(len(self.latencies) / self.seconds, 2) if self.seconds else None,
            "answered_within_step": self.answered_in_time,
            "p50_ms": lat.get("p50_ms"),
            "p95_ms": lat.get("p95_ms"),
            "p99_ms": lat.get("p99_ms"),
            "max_ms": lat.get("max_ms"),
        }


def _request(ticket: BenchTicket, suggest: bool) -> tuple[str, str, dict[str, Any]]:
    if suggest:
        question = ticket.subject or ticket.text.strip().splitlines()[0]
        params = {"q": question[:2000]}
        if len(ticket.language) in (2, 3) and ticket.language.isalpha():
            params["lang"] = ticket.language
        return "suggest", "/v1/articles/suggest", {"params": params}
    return "triage", "/v1/triage", {"json": ticket.payload()}


async def run_step(client: Any, tickets: list[BenchTicket], rate: float, seconds: float, suggest_share: float,
                   rng: random.Random) -> Step:
    """Poisson arrivals at ``rate`` for ``seconds``; waits for every answer (or its timeout) before returning."""
    import httpx

    step = Step(rate, seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + seconds
    tasks: list[asyncio.Task[None]] = []

    async def one(at: float, kind: str, path: str, args: dict[str, Any]) -> None:
        method = client.get if kind == "suggest" else client.post
        try:
            response = await method(path, **args)
            status = response.status_code
        except httpx.HTTPError as exc:
            step.error(type(exc).__name__)
            return
        done = loop.time()
        if status != 200:
            step.error(f"HTTP {status}")
            return
        step.latencies.append(done - at)
        step.answered_in_time += done <= end

    at = start
    while True:
        at += rng.expovariate(rate)
        if at >= end:
            break
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, path, args = _request(tickets[step.sent % len(tickets)], rng.random() < suggest_share)
        step.kinds[kind] = step.kinds.get(kind, 0) + 1
        step.sent += 1
        tasks.append(asyncio.create_task(one(at, kind, path, args)))
    await asyncio.sleep(max(0.0, end - loop.time()))
    await asyncio.gather(*tasks)
    return step


class MemorySampler:
    """RSS of the server and each of its processes (uvicorn's supervisor and workers) once a second."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self.max_total_mib = 0.0
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def processes(self) -> list[Any]:
        return [self._root, *self._root.children(recursive=True)]

    def snapshot(self, full: bool = False) -> dict[str, Any]:
        """Per process RSS (and USS/PSS when ``full``: slower, it walks the process's mappings), and the total."""
        import psutil

        per: dict[str, Any] = {}
        processes = self.processes()
        for proc in processes:
            try:
                # With one worker uvicorn serves in the sift process itself; with several it supervises them.
                if proc.pid == self._root.pid:
                    role = "supervisor" if len(processes) > 1 else "worker"
                else:
                    role = "helper" if "resource_tracker" in " ".join(proc.cmdline()) else "worker"
                if full:
                    info = proc.memory_full_info()
                    per[str(proc.pid)] = {"role": role, "rss_mib": round(info.rss / MIB, 1),
                                          "uss_mib": round(info.uss / MIB, 1),
                                          "pss_mib": round(getattr(info, "pss", 0) / MIB, 1)}
                else:
                    per[str(proc.pid)] = {"role": role, "rss_mib": round(proc.memory_info().rss / MIB, 1)}
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        total = round(sum(p["rss_mib"] for p in per.values()), 1)
        return {"total_rss_mib": total, "processes": per}

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.max_total_mib = max(self.max_total_mib, self.snapshot()["total_rss_mib"])

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


KEEPALIVE_S = 2.0


def saturated(step: Step, first: Step, p50_limit: float) -> str | None:
    """Why a search step is over capacity, or None."""
    figures, base = step.figures(), first.figures()
    if figures["errors"]:
        return f"{figures['errors']} errors"
    if step.answered_in_time < 0.9 * step.sent:
        return f"only {step.answered_in_time} of {step.sent} answered within the step: the queue grows"
    if base["p50_ms"] and figures["p50_ms"] and figures["p50_ms"] > p50_limit * base["p50_ms"]:
        return f"p50 {figures['p50_ms']} ms is over {p50_limit}x the first step's {base['p50_ms']} ms"
    return None


async def search(
    client: Any, tickets: list[BenchTicket], args: argparse.Namespace, rng: random.Random, steps: list[dict[str, Any]]
) -> float:
    """The highest rate that held: rates grow by ``rate_factor`` until one is over capacity, then ``refine``
    bisections between the last good and the first bad rate (a 20 s step hides a queue that grows slowly)."""
    first: Step | None = None

    async def holds(rate: float) -> bool:
        nonlocal first
        step = await run_step(client, tickets, rate, args.step_s, args.suggest_share, rng)
        first = first or step
        why = saturated(step, first, args.p50_limit)
        steps.append({**step.figures(), "over_capacity": why})
        print(f"  step {rate:6.2f}/s: p50 {step.figures()['p50_ms']} ms, p95 {step.figures()['p95_ms']} ms"
              f"{', over capacity: ' + why if why else ''}", file=sys.stderr, flush=True)
        return why is None

    good, bad = args.start_rate, None
    rate = args.start_rate
    while rate <= args.max_rate:
        if not await holds(rate):
            bad = rate
            break
        good, rate = rate, rate * args.rate_factor
    for _ in range(args.refine if bad is not None and bad > good else 0):
        middle = (good + bad) / 2
        if await holds(middle):
            good = middle
        else:
            bad = middle
    return good


async def drive(base: str, tickets: list[BenchTicket], args: argparse.Namespace, memory: MemorySampler) -> dict[str, Any]:
    import httpx

    rng = random.Random(args.seed)
    # The client closes idle connections before the server would (keep_alive_seconds): a request sent on a
    # connection the server is closing at that moment fails with a read error that says nothing about capacity.
    limits = httpx.Limits(max_connections=args.max_connections, max_keepalive_connections=args.max_connections,
                          keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as client:
        for ticket in tickets[:3]:  # untimed: first requests fill caches
            await client.post("/v1/triage", json=ticket.payload())
        steps: list[dict[str, Any]] = []
        rate = args.rate
        if rate is None:
            rate = await search(client, tickets, args, rng, steps) * args.hold_fraction
        print(f"hold: {rate:.2f} requests/s for {args.duration:.0f} s", file=sys.stderr, flush=True)
        at_start = memory.snapshot(full=True)
        memory.max_total_mib = at_start["total_rss_mib"]
        hold = await run_step(client, tickets, rate, args.duration, args.suggest_share, rng)
        at_end = memory.snapshot(full=True)
    return {"search": steps, "saturation_rate": round(rate / args.hold_fraction, 2) if args.rate is None else None,
            "hold_rate": round(rate, 2), "hold_fraction": args.hold_fraction, "hold": hold.figures(),
            "memory": {"hold_start": at_start, "hold_end": at_end, "hold_max_total_rss_mib": memory.max_total_mib,
                       "growth_total_rss_mib": round(at_end["total_rss_mib"] - at_start["total_rss_mib"], 1)}}


def serve(
    data_dir: Path, workers: int, log_path: Path, settings_file: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "SIFT_HOST": "127.0.0.1", "HF_HUB_OFFLINE": "1"}
    if settings_file is not None:
        env["SIFT_SETTINGS_FILE"] = str(settings_file)
    sift = Path(sys.executable).parent / "sift"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(sift), "serve", "--port", str(port), "--workers", str(workers)], cwd=REPO_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def stop_tree(proc: subprocess.Popen[bytes], grace_s: float = 60.0) -> None:
    """SIGTERM to uvicorn's supervisor (it stops its workers); whatever is left after ``grace_s`` is killed (a
    worker still loading its models finishes loading before it exits)."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        child.kill()


def all_ready(proc: subprocess.Popen[bytes], base: str, log_path: Path, timeout_s: float = 900.0) -> None:
    """/readyz 200 ``READY_STREAK`` times in a row on fresh connections, so that no worker is still loading."""
    deadline = time.perf_counter() + timeout_s
    streak = 0
    while streak < READY_STREAK:
        wait_ready(proc, base, deadline, log_path)
        import httpx

        streak = streak + 1 if httpx.get(f"{base}/readyz", timeout=5).status_code == 200 else 0
        time.sleep(0.05)


def report(result: dict[str, Any]) -> str:
    hold, memory = result["hold"], result["memory"]
    lines = [
        f"workers {result['workers']}: saturation {result['saturation_rate']} requests/s; held at "
        f"{result['hold_rate']} for {hold['seconds']:.0f} s, {hold['sent']} sent ({hold['by_kind']})",
        f"  errors {hold['errors']} {hold['error_kinds'] or ''}",
        f"  latency p50 {hold['p50_ms']} ms, p95 {hold['p95_ms']} ms, p99 {hold['p99_ms']} ms, max {hold['max_ms']} ms",
        f"  achieved {hold['achieved_rate']} requests/s (target {hold['target_rate']})",
        f"  server RSS total: start {memory['hold_start']['total_rss_mib']} MiB, end "
        f"{memory['hold_end']['total_rss_mib']} MiB, max {memory['hold_max_total_rss_mib']} MiB "
        f"(growth {memory['growth_total_rss_mib']} MiB)",
    ]
    for pid, end in memory["hold_end"]["processes"].items():
        start = memory["hold_start"]["processes"].get(pid, {})
        lines.append(f"    {end['role']} {pid}: RSS {start.get('rss_mib')} -> {end['rss_mib']} MiB, "
                     f"USS {end.get('uss_mib')} MiB, "
                     f"PSS {end.get('pss_mib')} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.throughput import _git, _load, _machine
    from engine.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=float, default=600.0, help="Seconds of the hold at saturation.")
    parser.add_argument("--rate", type=float, help="Hold at this rate (requests/s) instead of searching for it.")
    parser.add_argument("--start-rate", type=float, default=2.0)
    parser.add_argument("--rate-factor", type=float, default=1.4)
    parser.add_argument("--max-rate", type=float, default=500.0)
    parser.add_argument("--step-s", type=float, default=20.0, help="Seconds of each search step.")
    parser.add_argument("--refine", type=int, default=3, help="Bisections between the last good and first bad rate.")
    parser.add_argument("--hold-fraction", type=float, default=0.9, help="Hold at this share of the searched "
                        "saturation rate: a 10-minute hold exactly at it lets a slowly growing queue time requests out.")
    parser.add_argument("--p50-limit", type=float, default=3.0, help="Over capacity past this many times the first "
                                                                      "step's p50.")
    parser.add_argument("--suggest-share", type=float, default=0.5, help="Share of requests that are suggestions.")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--max-connections", type=int, default=256)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, default=None, help="Prepared data directory to copy "
                                                                   "(default: the settings' data_dir).")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.workers < 1 or args.duration <= 0 or args.step_s <= 0 or not 0 <= args.suggest_share <= 1 \
            or args.rate_factor <= 1 or (args.rate is not None and args.rate <= 0):
        parser.error("--workers >= 1, --duration and --step-s > 0, --suggest-share in [0, 1], --rate-factor > 1, "
                     "--rate > 0")

    started = datetime.now(UTC)
    tickets = draw_tickets(args.tickets, args.seed)
    machine, load = _machine(), {"start": _load()}
    source = args.data_dir or Settings().data_dir
    with tempfile.TemporaryDirectory(prefix="sift-load-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = prepare_data_dir(source, tmp / "data")
        log_path = tmp / "serve.log"
        proc, base = serve(data_dir, args.workers, log_path)
        memory: MemorySampler | None = None
        try:
            began = time.perf_counter()
            all_ready(proc, base, log_path)
            ready_s = time.perf_counter() - began
            print(f"sift serve --workers {args.workers} ready in {ready_s:.1f} s", file=sys.stderr, flush=True)
            memory = MemorySampler(proc.pid).start()
            result = asyncio.run(drive(base, tickets, args, memory))
        finally:
            if memory is not None:
                memory.stop()
            stop_tree(proc)
    load["end"] = _load()
    record = {
        "benchmark": "bench.load",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine,
        "load_average": load,
        "git": _git(),
        "workers": args.workers,
        "ready_s": round(ready_s, 1),
        **result,
    }
    path = write_result(record, args.results_dir, "load-", started)
    print(report(record))
    print(f"written {path}")
    return 1 if record["hold"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
