"""Nothing lost under faults (issue #20): `kill -9` of `sift serve` mid-way through a batch of tickets, restart.

A helpdesk integration sends N tickets, each with its own ``external_id``, in batches through
``POST /v1/triage/batch`` from a few concurrent clients, and keeps what was acknowledged. Once a share of them
is acknowledged the server is killed with SIGKILL (no shutdown: whatever it was triaging is cut off), then
restarted on the same data directory (and database). The integration resends everything it has no answer for,
and, as a client whose responses got lost would, a sample of what it had. Then the log is read directly:

- every ticket sent is in the log exactly once (``duplicates`` 0, ``lost`` 0) and ``processed``;
- every result acknowledged before the kill is unchanged in the log, and a resent one is answered with it;
- ``recovery_s``: from the restarted server answering ``/readyz`` until every ticket the kill left ``accepted``
  is processed (by the server's recovery or by a resend, whichever came first); ``restart_s`` is the time from
  the kill to ``/readyz`` (loading the models), ``resend_s`` the time the resend took.

    .venv/bin/python -m bench.crash_recovery                          # 1,000 tickets on ./var (copied, not written)
    .venv/bin/python -m bench.crash_recovery --tickets 200 --data-dir /tmp/ready   # smaller

``--data-dir`` is a prepared data directory (index, heads): copied to a scratch folder without its ticket log.
``--database-url`` runs the same against PostgreSQL (an empty database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.measure import RESULTS_DIR, write_result
from bench.server import free_port, prepare_data_dir, wait_ready
from bench.tickets import REPO_ROOT
from engine.store.db import Location, connect

TEMPLATES = (
    "Order {n} has not arrived yet, where is it?",
    "My Lumio Hub {n} keeps going offline every night.",
    "I was charged twice for invoice {n}, please refund one.",
    "How do I change the delivery address of order {n}?",
    "The thermostat in room {n} shows the wrong temperature.",
    "Can I return item {n}? It does not fit.",
    "The app crashes when I open the settings page, build {n}.",
    "Please cancel my subscription {n} at the end of the month.",
)


def tickets(count: int) -> list[dict[str, Any]]:
    """``count`` short tickets, each with its own external id (``T-00000``...)."""
    return [{"text": TEMPLATES[n % len(TEMPLATES)].format(n=1000 + n), "external_id": f"T-{n:05d}"}
            for n in range(count)]


@dataclass
class Figures:
    """What a run shows; ``ok`` when nothing was lost, duplicated, left unfinished or changed."""

    sent: int
    batch_size: int
    clients: int
    database: str
    lease_s: float
    acknowledged_before_kill: int = 0
    in_log_at_kill: int = 0
    left_accepted_at_kill: int = 0
    resent: int = 0
    replays_checked: int = 0
    duplicates: int = 0
    lost: int = 0
    not_processed: int = 0
    changed_results: int = 0
    restart_s: float = 0.0
    recovery_s: float = 0.0
    resend_s: float = 0.0
    total_s: float = 0.0
    recovered_by_server: int = 0
    load_average: list[float] = field(default_factory=list)
    """The 1-minute load average at the start and the end: start-up and triage times depend on it."""

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.not_processed or self.changed_results) and self.sent > 0


class Server:
    """`sift serve` on one port and data directory, started and killed at will, its output in one log file."""

    def __init__(self, data_dir: Path, log_path: Path, database_url: str | None, lease_s: float | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
                    "SIFT_SETTINGS_FILE": str(data_dir / "absent.toml")}
        if database_url:
            self.env["SIFT_DATABASE_URL"] = database_url
        if lease_s:
            self.env["SIFT_TICKET_LEASE_SECONDS"] = str(lease_s)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 600) -> None:
        sift = Path(sys.executable).parent / "sift"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([str(sift), "serve", "--port", str(self.port)], cwd=REPO_ROOT, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_ready(self.proc, self.base, time.perf_counter() + timeout_s, self.log_path)

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no flush; what the process was doing is cut off."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Integration:
    """The helpdesk side: sends batches from several threads, keeps the acknowledged results by external id."""

    def __init__(self, base: str, batch_size: int, clients: int) -> None:
        self.base = base
        self.batch_size = batch_size
        self.clients = clients
        self.acknowledged: dict[str, dict[str, Any]] = {}  # the first answer to each ticket
        self.answers: dict[str, list[dict[str, Any]]] = {}  # every answer, resends' too
        self.lock = threading.Lock()

    def send(self, batch_tickets: list[dict[str, Any]], until_ok: bool = False) -> None:
        """Send all in batches; a batch without an answer (server gone) stays unacknowledged unless ``until_ok``."""
        batches = [batch_tickets[i : i + self.batch_size] for i in range(0, len(batch_tickets), self.batch_size)]
        queue = iter(batches)
        take = threading.Lock()

        def work() -> None:
            with httpx.Client(base_url=self.base, timeout=300) as client:
                while True:
                    with take:
                        batch = next(queue, None)
                    if batch is None:
                        return
                    self._post(client, batch, until_ok)

        threads = [threading.Thread(target=work) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _post(self, client: httpx.Client, batch: list[dict[str, Any]], until_ok: bool) -> None:
        while True:
            try:
                r = client.post("/v1/triage/batch", json={"tickets": batch})
            except httpx.TransportError:
                if not until_ok:
                    return
                time.sleep(0.5)
                continue
            if r.status_code == 200:
                with self.lock:
                    for ticket, result in zip(batch, r.json()["results"], strict=True):
                        self.acknowledged.setdefault(ticket["external_id"], result)
                        self.answers.setdefault(ticket["external_id"], []).append(result)
                return
            if r.status_code == 503 and until_ok:
                time.sleep(float(r.headers.get("retry-after", "1")))
                continue
            raise RuntimeError(f"batch answered {r.status_code}: {r.text[:300]}")


def log_rows(location: Location) -> list[tuple[str, str | None, str, str | None]]:
    """(id, external_id, status, result) of every logged ticket, read beside the server (or after it died)."""
    database = connect(location)
    try:
        with database.read() as conn:
            rows = conn.execute(text("SELECT id, external_id, status, result FROM tickets"))
            return [(r.id, r.external_id, r.status, r.result) for r in rows]
    finally:
        database.close()


def run(
    data_dir: Path,
    work_dir: Path,
    count: int = 1000,
    batch_size: int = 20,
    clients: int = 2,
    kill_after: float = 0.45,
    database_url: str | None = None,
    lease_s: float | None = None,
    replay_sample: int = 50,
    seed: int = 20,
) -> Figures:
    """One crash-and-resume run on a scratch copy of the prepared ``data_dir``; the figures it shows."""
    scratch = prepare_data_dir(data_dir, work_dir / "data")
    location: Location = database_url or scratch / "sift.db"
    server = Server(scratch, work_dir / "server.log", database_url, lease_s)
    sent = tickets(count)
    figures = Figures(count, batch_size, clients, "postgresql" if database_url else "sqlite", lease_s or 30.0)
    began = time.perf_counter()
    figures.load_average.append(round(os.getloadavg()[0], 2))
    server.start()
    integration = Integration(server.base, batch_size, clients)
    kill_at = int(count * kill_after)

    def killer() -> None:
        """Once ``kill_at`` tickets are acknowledged, kill -9 while the log holds tickets being triaged."""
        while len(integration.acknowledged) < kill_at and server.proc is not None and server.proc.poll() is None:
            time.sleep(0.01)
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and not any(r[2] == "accepted" for r in log_rows(location)):
            time.sleep(0.005)
        server.kill()

    watcher = threading.Thread(target=killer)
    try:
        watcher.start()
        integration.send(sent)
        watcher.join()
        killed = time.perf_counter()
        figures.acknowledged_before_kill = len(integration.acknowledged)
        at_kill = log_rows(location)
        figures.in_log_at_kill = len(at_kill)
        orphans = {r[0] for r in at_kill if r[2] == "accepted"}
        figures.left_accepted_at_kill = len(orphans)
        acknowledged = dict(integration.acknowledged)

        server.start()
        ready = time.perf_counter()
        figures.restart_s = round(ready - killed, 2)
        recovered: list[float] = []
        clock = threading.Thread(target=lambda: recovered.append(_until_processed(location, orphans)))
        clock.start()
        unanswered = [t for t in sent if t["external_id"] not in acknowledged]
        sample = random.Random(seed).sample(sorted(acknowledged), min(replay_sample, len(acknowledged)))
        by_id = {t["external_id"]: t for t in sent}
        resend = unanswered + [by_id[e] for e in sample]
        figures.resent = len(resend)
        integration.send(resend, until_ok=True)
        figures.resend_s = round(time.perf_counter() - ready, 2)
        clock.join()
        figures.recovery_s = round(recovered[0] - ready, 2) if recovered else -1.0
        figures.total_s = round(time.perf_counter() - began, 2)
        figures.load_average.append(round(os.getloadavg()[0], 2))
        metrics = httpx.get(f"{server.base}/metrics", timeout=30).text
        figures.recovered_by_server = int(sum(
            float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
            if line.startswith('sift_recovered_tickets_total{outcome="recovered",tenant="default"}')
        ))
    finally:
        server.kill()  # also ends the watcher if the run failed before the kill
        watcher.join()

    rows = log_rows(location)
    seen: dict[str, int] = {}
    for _, external_id, _, _ in rows:
        if external_id is not None:
            seen[external_id] = seen.get(external_id, 0) + 1
    figures.duplicates = sum(n - 1 for n in seen.values())
    figures.lost = sum(t["external_id"] not in seen for t in sent)
    figures.not_processed = sum(status != "processed" for _, _, status, _ in rows)
    stored = {e: json.loads(r) for _, e, _, r in rows if e is not None and r}
    figures.changed_results = sum(stored.get(e) != result for e, result in acknowledged.items())
    figures.changed_results += sum(integration.answers[e][-1] != acknowledged[e] for e in sample)
    figures.replays_checked = len(sample)
    return figures


def _until_processed(location: Location, ids: set[str], timeout_s: float = 600) -> float:
    """When (``time.perf_counter``) every ticket in ``ids`` was first seen processed."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if not ids & {r[0] for r in log_rows(location) if r[2] != "processed"}:
            return time.perf_counter()
        time.sleep(0.1)
    raise RuntimeError(f"tickets still unfinished after {timeout_s:.0f} s")


@contextmanager
def _work_dir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="sift-crash-") as tmp:
        yield Path(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="concurrent client connections")
    parser.add_argument("--kill-after", type=float, default=0.45, help="share of tickets acknowledged before kill -9")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var", help="prepared data directory (copied)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of the data dir's SQLite file")
    parser.add_argument("--lease", type=float, help="ticket_lease_seconds for the server (default: its own, 30)")
    parser.add_argument("--work-dir", type=Path, help="keep the scratch copy and server log here")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    started = datetime.now(UTC)
    with _work_dir(args.work_dir) as work:
        figures = run(args.data_dir, work, args.tickets, args.batch_size, args.clients, args.kill_after,
                      args.database_url, args.lease)
    record = {"bench": "crash_recovery", "started": started.isoformat(), "command": " ".join(sys.argv),
              "ok": figures.ok, **asdict(figures)}
    path = write_result(record, args.results_dir, "crash_recovery-", started)
    print(json.dumps(record, indent=2))
    print(f"written to {path}", file=sys.stderr)
    sys.exit(0 if figures.ok else 1)


if __name__ == "__main__":
    main()
