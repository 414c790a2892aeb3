"""Finishing what a dead process left: the ticket log is the queue.

A process that dies mid-pipeline (``kill -9``, OOM, a power cut) leaves its tickets ``accepted``. Two daemon
threads keep the promise that each is finished exactly once:

- the keeper (in every process that triages, from its first ticket: `sift triage-file` beside a server too)
  renews this process's claims every third of ``ticket_lease_seconds``, so no one else takes over a ticket a
  live process is still triaging (even one queued behind a long batch);
- the sweeper (in ``sift serve``), at start-up and then as often, claims accepted tickets whose claim is older than the lease
  (``TicketClaims.claim_orphans``, atomic on SQLite and PostgreSQL) and triages them from the log's masked copy,
  one pipeline pass at a time, through the same worker as requests.

So after a crash the restarted server (or any other replica on the same database) finishes the dead one's
tickets once its claims are a lease old; ``GET /v1/tickets/{id}`` shows their status meanwhile, and
``sift_recovered_tickets_total`` counts them.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from engine.idempotency import logged_ticket
from engine.stage import EarlierContact

if TYPE_CHECKING:
    from engine.service import TriageService
    from engine.store.claims import Orphan

log = logging.getLogger(__name__)


class Recovery:
    """The keeper and the sweeper of one service; :meth:`stop` before the service's worker stops."""

    def __init__(self, service: TriageService) -> None:
        self.service = service
        self.interval = service.settings.ticket_lease_seconds / 3
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._keeper = threading.Thread(target=self._keep, name="sift-claims", daemon=True)
        self._sweeper = threading.Thread(target=self._sweep, name="sift-recovery", daemon=True)

    def keep_claims(self) -> None:
        """Start the keeper if it is not running: any process that triages (the CLI too) keeps its claims alive."""
        with self._lock:
            if not self._keeper.is_alive() and not self._stop.is_set():
                self._keeper.start()

    def start(self) -> None:
        """The keeper and the sweeper (``sift serve``)."""
        self.keep_claims()
        with self._lock:
            if not self._sweeper.is_alive() and not self._stop.is_set():
                self._sweeper.start()

    def stop(self) -> None:
        """Stop both threads; a recovery pass under way finishes first (its tickets are claimed by us)."""
        with self._lock:
            self._stop.set()
        for thread in (self._keeper, self._sweeper):
            if thread.is_alive():
                thread.join()

    def _keep(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.service.store.claims.renew(self.service.store.owner)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the keeper; the next renewal retries
                log.exception("could not renew this process's ticket claims")

    def _sweep(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            try:
                full = self.sweep_once()
            except Exception:  # noqa: BLE001 - logged; the tickets stay claimed and are retried after the lease
                log.exception("recovering accepted tickets failed")
                full = False
            wait = 0.0 if full else self.interval

    def sweep_once(self) -> bool:
        """Claim and triage one pipeline pass of orphaned tickets; whether there may be more waiting."""
        service = self.service
        limit = service.settings.max_pipeline_batch
        orphans, abandoned = service.store.claims.claim_orphans(service.store.owner, service.stale_before(), limit)
        if abandoned:
            log.error("gave up on %d ticket(s): the process triaging each stopped repeatedly", abandoned)
            service.report("abandoned", abandoned)
        if not orphans:
            return False
        log.warning("recovering %d ticket(s) a stopped process left unfinished", len(orphans))
        readable = []
        for orphan in orphans:
            try:
                readable.append((orphan, logged_ticket(orphan)))
            except ValueError as exc:  # a payload this version cannot read: failed, with why, not retried forever
                service.store.fail([orphan.id], f"the logged ticket cannot be read back: {exc}")
                service.report("failed", 1)
        if readable:
            try:
                service.process([t for _, t in readable], [o.id for o, _ in readable],
                                self._earlier([o for o, _ in readable]))
            except Exception:
                service.report("failed", len(readable))
                raise
            service.report("recovered", len(readable))
        return len(orphans) == limit

    def _earlier(self, orphans: list[Orphan]) -> list[tuple[EarlierContact, ...]]:
        """Each orphan's customer's earlier tickets, as when it arrived: only those received before it."""
        found = self.service.earlier_contacts([o.customer_key for o in orphans])
        return [
            tuple(c for c in contacts if c.received_at < o.received_at) for o, contacts in zip(orphans, found, strict=True)
        ]
