"""Dynamic micro-batching: tickets from many concurrent requests, one pipeline pass.

Most of a pipeline pass's cost on a small CPU box is per call rather than per
ticket (the encoder call, the scikit-learn heads, stage overhead), so requests
that arrive together are run together. One worker thread owns the models: it
is the only thread that runs batches, and the only one that runs the exclusive
jobs (article search, reload) handed to :meth:`MicroBatcher.call`, in arrival
order between batches. The encoder is not re-entrant, and this keeps it so
without a lock. Several tenants' batchers share the process's models: they
pass one ``models_lock``, which each worker holds while it runs.

How a batch is formed, chosen to add nothing to a lone ticket on an idle
server and to coalesce under load:

- The worker takes the oldest waiting request, then every queued request that
  still fits under ``max_batch`` tickets (first come, first served: a request
  that does not fit waits for the next batch rather than be overtaken).
- It waits up to ``wait_s`` for more only when there is a sign of concurrent
  traffic: another request was already queued, or the previous batch carried
  several requests (closed-loop clients answered together come back a few
  milliseconds apart, and running the first of them alone would split every
  later batch in two). A lone client on an idle server never waits.
- While a batch runs, new requests queue up; that queue is the next batch, so
  under saturation batches grow by themselves without any waiting.

A request larger than ``max_batch`` is split into chunks that run as separate
batches; its caller gets all results back in order. An exception in a batch is
re-raised to the callers whose tickets were in it, and to no one else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from engine.errors import NotReady

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")

BatchObserver = Callable[[int, list[float]], None]
"""Called as each batch starts, with its size in items and each request's time in the queue in seconds."""


@dataclass
class _Job:
    items: list[Any]
    fn: Callable[[], Any] | None = None  # an exclusive call instead of items
    future: Future[Any] = field(default_factory=Future)
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher(Generic[T, R]):
    """Runs ``run(items) -> results`` (one result per item, in order) over coalesced requests."""

    def __init__(
        self,
        run: Callable[[list[T]], list[R]],
        max_batch: int,
        wait_s: float,
        observe: BatchObserver | None = None,
        name: str = "sift-batcher",
        models_lock: threading.Lock | None = None,
    ) -> None:
        """``models_lock``: held around every batch and exclusive call, when other batchers use the same models."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run = run
        self._max_batch = max_batch
        self._wait_s = wait_s
        self._observe = observe
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._last_requests = 0
        self._models_lock = models_lock or threading.Lock()
        self._worker = threading.Thread(target=self._loop, name=name, daemon=True)
        self._worker.start()

    def submit(self, items: list[T]) -> list[R]:
        """Block until ``items`` went through ``run`` (in one or more batches); results in order."""
        jobs = [_Job(items[i : i + self._max_batch]) for i in range(0, len(items), self._max_batch)]
        self._enqueue(jobs)
        return [r for job in jobs for r in job.future.result()]

    def call(self, fn: Callable[[], V]) -> V:
        """Run ``fn`` on the worker between batches, so that it never overlaps one (reload, search)."""
        job = _Job([], fn)
        self._enqueue([job])
        return job.future.result()

    def close(self) -> None:
        """Refuse new work, finish what is queued, stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join()

    def _enqueue(self, jobs: list[_Job]) -> None:
        with self._cond:
            if self._closed:
                raise NotReady("the service is shutting down")
            self._queue.extend(jobs)
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = [self._queue.popleft()]
                if batch[0].fn is None:
                    self._gather(batch)
            with self._models_lock:
                if batch[0].fn is not None:
                    self._call(batch[0].fn, batch[0].future)
                else:
                    self._run_batch(batch)

    def _gather(self, batch: list[_Job]) -> None:
        """Add queued requests to ``batch`` (holding the condition's lock) as the module docstring says."""
        size = len(batch[0].items)
        busy = bool(self._queue) or self._last_requests > 1
        deadline = time.perf_counter() + (self._wait_s if busy else 0.0)
        while size < self._max_batch:
            while self._queue and self._queue[0].fn is None:
                if size + len(self._queue[0].items) > self._max_batch:
                    return
                size += len(self._queue[0].items)
                batch.append(self._queue.popleft())
            if self._queue or self._closed:  # an exclusive call is next, or nothing more will come
                return
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _run_batch(self, batch: list[_Job]) -> None:
        started = time.perf_counter()
        items = [item for job in batch for item in job.items]
        self._last_requests = len(batch)
        if self._observe is not None:
            try:
                self._observe(len(items), [started - job.enqueued for job in batch])
            except Exception:
                log.exception("batch observer failed")
        try:
            results = self._run(items)
            if len(results) != len(items):
                raise RuntimeError(f"a batch of {len(items)} items gave {len(results)} results")
        except Exception as exc:  # the callers re-raise it; the worker lives on
            for job in batch:
                job.future.set_exception(exc)
            return
        offset = 0
        for job in batch:
            job.future.set_result(results[offset : offset + len(job.items)])
            offset += len(job.items)

    @staticmethod
    def _call(fn: Callable[[], Any], future: Future[Any]) -> None:
        try:
            future.set_result(fn())
        except Exception as exc:
            future.set_exception(exc)
