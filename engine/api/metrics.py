"""Prometheus metrics for operators: volume, handoff rate, latency per stage, batching; per tenant where a tenant's
traffic is told apart (the batches are the process's: tenants share its models)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram

from engine.types import TriageResult


class Metrics:
    """Per-app registry, so several apps in one test process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tickets = Counter(
            "sift_tickets_total", "Tickets triaged", ["tenant", "queue", "handoff"], registry=self.registry
        )
        self.handoff_reasons = Counter(
            "sift_handoff_reasons_total", "Handoff reasons given", ["tenant", "reason"], registry=self.registry
        )
        self.latency = Histogram(
            "sift_triage_seconds",
            "Wall time of one triage call (single or batch)",
            ["tenant", "endpoint"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.stage = Histogram(
            "sift_stage_seconds",
            "Wall time per pipeline stage per batch "
            "(language and entities run during encode unless overlap_entities is off)",
            ["tenant", "stage"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "sift_pipeline_batch_tickets",
            "Tickets per pipeline pass, concurrent requests coalesced",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "sift_batch_queue_seconds",
            "Time a request waited for its pipeline pass to start",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

        self.recovered = Counter(
            "sift_recovered_tickets_total",
            "Tickets a stopped process left accepted, finished by this one: recovered, failed again, or abandoned "
            "(its process stopped on it repeatedly)",
            ["tenant", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "sift_ticket_retries_total",
            "Tickets sent again under an external id already in the log: replayed (the stored result answered) or "
            "resumed (its unfinished stored copy triaged)",
            ["tenant", "outcome"],
            registry=self.registry,
        )

    RECOVERY_OUTCOMES = frozenset({"recovered", "failed", "abandoned"})

    def recovery_observer(self, tenant: str) -> Callable[[str, int], None]:
        """A tenant's ``TriageService.on_recovery``: what became of tickets a fault left, and of retries."""

        def observe(kind: str, tickets: int) -> None:
            if kind in self.RECOVERY_OUTCOMES:
                self.recovered.labels(tenant, kind).inc(tickets)
            else:
                self.retries.labels(tenant, kind).inc(tickets)

        return observe

    def observe_batch(self, tickets: int, waits: list[float]) -> None:
        """A pipeline pass started: its size, and how long each of its requests queued for it."""
        self.batch_size.observe(tickets)
        for wait in waits:
            self.queue_wait.observe(wait)

    def observe(self, tenant: str, endpoint: str, seconds: float, results: list[TriageResult]) -> None:
        """One triage call of ``tenant``'s: its wall time, and what its tickets were routed to and why."""
        self.latency.labels(tenant, endpoint).observe(seconds)
        for r in results:
            self.tickets.labels(tenant, r.route.queue, str(r.handoff.required).lower()).inc()
            for reason in r.handoff.reasons:
                self.handoff_reasons.labels(tenant, reason.split(":")[0]).inc()
        if results:
            for stage, ms in results[0].timings_ms.items():
                self.stage.labels(tenant, stage).observe(ms / 1000)
