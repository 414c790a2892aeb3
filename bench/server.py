"""Sift through its real HTTP API: `sift serve` as a subprocess on a scratch data directory and a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import RssSampler, summary_ms
from bench.tickets import REPO_ROOT, BenchTicket

SHARED_DIRS = ("encoder",)  # large, read-only model files: linked into the scratch copy, not copied


def prepare_data_dir(source: Path, dest: Path) -> Path:
    """A scratch copy of a prepared data directory (index builds, heads) without its ticket log.

    The ticket log starts empty so that no run depends on, or adds to, the source's database.
    """
    if not source.is_dir():
        raise FileNotFoundError(f"data directory {source} does not exist: run `bash scripts/setup.sh` first")
    dest.mkdir(parents=True, exist_ok=False)
    for entry in source.iterdir():
        if entry.name.startswith("sift.db"):
            continue
        target = dest / entry.name
        if entry.is_dir() and entry.name in SHARED_DIRS:
            target.symlink_to(entry.resolve(), target_is_directory=True)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def measure_api(
    latency_tickets: list[BenchTicket],
    batch_tickets: list[BenchTicket],
    data_dir: Path,
    log_path: Path,
    batch_size: int = 64,
    warmup_requests: int = 3,
    ready_timeout_s: float = 600.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Start `sift serve`, wait for /readyz, POST one ticket at a time, then a few batches; sample its memory.

    Latency is measured at the client around each request on a keep-alive connection, as a caller sees it.
    """
    import httpx

    port = free_port()
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "SIFT_PORT": str(port), "SIFT_HOST": "127.0.0.1",
           "HF_HUB_OFFLINE": "1"}
    sift = Path(sys.executable).parent / "sift"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen([str(sift), "serve"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    sampler = RssSampler(proc.pid).start()
    try:
        ready = wait_ready(proc, base, start + ready_timeout_s, log_path)
        ready_s = time.perf_counter() - start
        idle_mib = sampler.current_mib()
        with httpx.Client(base_url=base, timeout=120) as client:
            failed: Counter[str] = Counter()
            for ticket in latency_tickets[:warmup_requests]:
                _post(client, "/v1/triage", ticket.payload(), Counter())
            seconds: list[float] = []
            errors = 0
            wall = time.perf_counter()
            for i, ticket in enumerate(latency_tickets):
                ok, took = _post(client, "/v1/triage", ticket.payload(), failed)
                seconds.append(took)
                errors += not ok
                if progress:
                    progress("single", i + 1, len(latency_tickets))
            sequential_s = time.perf_counter() - wall
            batch = _batches(client, batch_tickets, batch_size, failed, progress)
        sampler.stop()
    finally:
        sampler.stop()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "ready_s": round(ready_s, 2),
        "readyz": ready,
        "requests": len(latency_tickets),
        "errors": errors,
        "failed_stages": dict(failed),
        "latency": summary_ms(seconds, keep=True),
        "sequential_tickets_per_s": round(len(latency_tickets) / sequential_s, 2) if latency_tickets else None,
        "batch": batch,
        "idle_rss_mib": round(idle_mib, 1),
        "memory": sampler.result(),
        "port": port,
    }


def wait_ready(proc: subprocess.Popen[bytes], base: str, deadline: float, log_path: Path) -> dict[str, Any]:
    """``/readyz``'s body once it says 200 (``deadline`` on ``time.perf_counter``); the log's tail if it never does."""
    import httpx

    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`sift serve` exited with {proc.returncode} before ready:\n{_tail(log_path)}")
        try:
            r = httpx.get(f"{base}/readyz", timeout=2)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"`sift serve` was not ready in time:\n{_tail(log_path)}")


def _post(client: Any, path: str, body: dict[str, Any], failed: Counter[str]) -> tuple[bool, float]:
    """POST, timed from the call to the whole response read; then check it outside the timing: a non-200
    answer is an error, and failed pipeline stages in the results are counted."""
    start = time.perf_counter()
    r = client.post(path, json=body)
    took = time.perf_counter() - start
    if r.status_code != 200:
        print(f"warning: {path} answered {r.status_code}: {r.text[:200]}", file=sys.stderr)
        return False, took
    data = r.json()
    for result in data.get("results", [data]):
        failed.update(result.get("failed_stages") or [])
    return True, took


def _batches(
    client: Any,
    tickets: list[BenchTicket],
    batch_size: int,
    failed: Counter[str],
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, Any] | None:
    """POST /v1/triage/batch over ``tickets``: its throughput, and load on the server's memory."""
    if not tickets:
        return None
    seconds, errors = [], 0
    for offset in range(0, len(tickets), batch_size):
        chunk = tickets[offset : offset + batch_size]
        ok, took = _post(client, "/v1/triage/batch", {"tickets": [t.payload() for t in chunk]}, failed)
        seconds.append(took)
        errors += not ok
        if progress:
            progress("batch", offset + len(chunk), len(tickets))
    return {
        "tickets": len(tickets),
        "batch_size": batch_size,
        "errors": errors,
        "tickets_per_s": round(len(tickets) / sum(seconds), 2),
        "batch_latency": summary_ms(seconds),
    }
