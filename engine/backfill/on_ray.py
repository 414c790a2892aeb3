"""The backfill on Ray: one actor per worker, each with its own ``TriageService`` (models loaded once per actor).

The driver keeps at most two batches queued per actor, hands them out round-robin (equal batches, equal work)
and collects them in submission order, so it writes in input order with a bounded window in memory. Only the
driver writes: a batch's result reaches the file once, however often its task ran.

Fault tolerance is Ray's: an actor whose process dies (``kill -9``, out of memory, a node lost) is restarted up
to ``MAX_RESTARTS`` times, building its service again, and its unfinished batches are retried on it
(``max_task_retries``). An error the service raises on purpose (a refused ticket) is not retried: it ends the
run with the service's message, as the single-process command does.

Workers receive the driver's ``Settings`` object, so every actor triages under exactly the driver's settings;
on a cluster, the paths in it (data directory, models, KB) must exist on every node (a shared file system, or
the same layout), and the ticket log should be PostgreSQL (``database_url``) for one log across nodes.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from engine.backfill.rows import Row
from engine.backfill.work import triage_rows
from engine.errors import SiftError
from engine.settings import Settings

if TYPE_CHECKING:
    from engine.service import TriageService

MAX_RESTARTS = 4
"""Restarts of one worker before the run gives up (each costs a model load, about 10 s)."""
MAX_TASK_RETRIES = 4
QUEUED_PER_WORKER = 2
"""Batches waiting at each actor: one running, one ready, so no actor idles while the driver writes."""
CONNECT_TIMEOUT_S = 5.0
ACTOR_NAME = "sift-backfill"


class TriageWorker:
    """A Ray actor's body: one service, one pipeline; batches run one at a time (the encoder is not re-entrant)."""

    def __init__(self, settings: Settings) -> None:
        from engine.bootstrap import ensure_ready
        from engine.service import TriageService

        self.service: TriageService = TriageService.create(settings)
        ensure_ready(self.service.pipeline.registry)

    def triage(self, rows: list[Row]) -> list[str]:
        return triage_rows(self.service, rows)

    def pid(self) -> int:
        return os.getpid()


def _prepare_data_dir(settings: Settings) -> None:
    """Build what a first run builds (index, heads) and migrate the ticket log here, once, before the workers
    start: several workers finding an empty data directory at the same moment would each build it."""
    from engine.bootstrap import ensure_ready
    from engine.models.registry import ModelRegistry
    from engine.store.db import open_database

    ensure_ready(ModelRegistry(settings))
    open_database(settings.database).close()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SiftError("--ray needs Ray, which is not installed: pip install 'sift[ray]'") from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail in seconds, not after Ray's own minute of retries, when ``host:port`` does not answer."""
    if address == "auto":
        return
    split = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = split.hostname, split.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise SiftError(f"--ray-address must be auto, HOST:PORT or ray://HOST:PORT; got {address!r}")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise SiftError(f"cannot reach the Ray cluster at {address}: {exc}") from None


class RayRunner:
    """Runs batches on ``workers`` Ray actors; started with :meth:`start`, stopped with :meth:`close`.

    ``address``: None starts a local Ray on this machine (or uses one this process already started, as tests
    do); ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT`` joins a running cluster.
    """

    def __init__(self, settings: Settings, address: str | None, workers: int | None) -> None:
        self.settings = settings
        self.address = address
        self.requested = workers
        self.actors: list[Any] = []
        self._started_ray = False

    def start(self) -> RayRunner:
        """Connect (or start Ray) and start the actors; :meth:`run` calls it on the first batch."""
        ray = _ray()
        if self.address is None:
            _prepare_data_dir(self.settings)
        if not ray.is_initialized():
            self._init(ray)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = self.requested or max(1, cpus // self.settings.encoder_threads)
        if workers > cpus:
            raise SiftError(f"--workers {workers}: the Ray cluster has {cpus} CPUs; each worker takes one")
        remote = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES)(TriageWorker)
        run = os.urandom(4).hex()
        self.actors = [
            remote.options(name=f"{ACTOR_NAME}-{run}-{i}").remote(self.settings) for i in range(workers)
        ]
        return self

    def _init(self, ray: Any) -> None:
        if self.address is None:
            # The CPUs Ray may hand out: at least one per requested worker (they share cores if there are more).
            cpus = max(os.cpu_count() or 1, self.requested or 1)
            # "local": always a new Ray of our own. Without it Ray joins whatever cluster its last-cluster file
            # (/tmp/ray/ray_current_cluster) names, which a stopped `ray start` leaves behind.
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        else:
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise SiftError(f"cannot join the Ray cluster at {self.address}: {exc}") from None
        self._started_ray = True

    @property
    def workers(self) -> int:
        return len(self.actors)

    def run(self, batches: Iterator[list[Row]]) -> Iterator[list[str]]:
        """Each batch's lines, in the order the batches came; at most ``QUEUED_PER_WORKER`` per actor in flight.

        Nothing starts before the first batch: a finished output costs no cluster and no model load.
        """
        ray = _ray()
        first = next(batches, None)
        if first is None:
            return
        if not self.actors:
            self.start()
        batches = itertools.chain([first], batches)
        window: deque[tuple[Any, int]] = deque()
        sent = 0

        def send() -> None:
            nonlocal sent
            batch = next(batches, None)
            if batch is not None:
                window.append((self.actors[sent % len(self.actors)].triage.remote(batch), batch[0].row))
                sent += 1

        for _ in range(QUEUED_PER_WORKER * len(self.actors)):
            send()
        while window:
            ref, first_row = window.popleft()
            try:
                lines = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                if isinstance(exc.cause, SiftError):  # refused on purpose: the message the command always gave
                    raise exc.cause from None
                raise
            except ray.exceptions.RayActorError as exc:
                raise SiftError(
                    f"a Ray worker died more than {MAX_RESTARTS} times (last on the batch from row {first_row}): {exc}"
                ) from None
            send()
            yield lines

    def close(self) -> None:
        if not self.actors and not self._started_ray:
            return
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._started_ray:
            ray.shutdown()
