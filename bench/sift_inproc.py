"""Sift in-process: batch throughput along the CLI's path, and the encoder's own time for one ticket.

Both read Sift's settings the way the product does (defaults < sift.toml < SIFT_* environment), so the caller
points ``SIFT_DATA_DIR`` at a scratch copy of the data directory before calling them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.measure import high_water_mib, summary_ms
from bench.tickets import BenchTicket

SETTINGS_RECORDED = (
    "encoder_backend", "encoder_precision", "encoder_batch_independent", "encoder_threads", "encode_batch_size",
    "max_pipeline_batch", "batch_wait_ms", "retrieval_mode", "index_type", "head_kind",
)


def _settings_record() -> dict[str, Any]:
    from engine.settings import get_settings

    settings = get_settings()
    record = {name: getattr(settings, name) for name in SETTINGS_RECORDED if hasattr(settings, name)}
    record["data_dir"] = str(settings.data_dir)
    return record


def run_sift_batch(
    tickets: list[BenchTicket],
    batch_size: int = 64,
    warmup_tickets: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Triage every ticket in batches exactly as ``sift triage-file`` does (minus the file writing).

    Start-up (loading models, opening the index, one small warm-up batch) is timed apart from the run.
    """
    from engine.cli import _service  # the CLI's own constructor: the same service `sift triage-file` builds
    from engine.types import Ticket

    def batch(chunk: list[BenchTicket]) -> list[Ticket]:
        return [Ticket(text=t.text, subject=t.subject or None) for t in chunk]

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    start = time.perf_counter()
    with _service() as service:
        if warmup_tickets:
            service.triage(batch(tickets[:warmup_tickets]))
        startup_s = time.perf_counter() - start

        failed: Counter[str] = Counter()
        stage_ms: Counter[str] = Counter()
        batch_s: list[float] = []
        wall = time.perf_counter()
        for offset in range(0, len(tickets), batch_size):
            chunk = tickets[offset : offset + batch_size]
            t0 = time.perf_counter()
            results = service.triage(batch(chunk))
            batch_s.append(time.perf_counter() - t0)
            # Every ticket of one pipeline pass carries that pass's timings: count each pass once.
            for timings in {json.dumps(r.timings_ms, sort_keys=True) for r in results}:
                stage_ms.update(json.loads(timings))
            for r in results:
                failed.update(r.failed_stages)
            if progress:
                progress(offset + len(chunk), len(tickets))
        elapsed = time.perf_counter() - wall
    return {
        "tickets": len(tickets),
        "batch_size": batch_size,
        "elapsed_s": round(elapsed, 3),
        "tickets_per_s": round(len(tickets) / elapsed, 2),
        "startup_s": round(startup_s, 2),
        "tickets_per_s_with_startup": round(len(tickets) / (elapsed + startup_s), 2),
        "batch_latency": summary_ms(batch_s),
        "stage_ms_per_ticket": {k: round(v / len(tickets), 3) for k, v in stage_ms.most_common()},
        "failed_stages": dict(failed),
        "settings": _settings_record(),
        "kernel_hwm_mib": high_water_mib(),
    }


def encoder_floor(tickets: list[BenchTicket], warmup: int = 3) -> dict[str, Any]:
    """The encoder's forward pass for one ticket at a time: the floor under single-ticket latency.

    Each ticket is encoded as the pipeline encodes it: normalised (subject joined, quotes and signatures cut),
    alone, with the service's own encoder built by ``ModelRegistry(Settings())``.
    """
    from engine.models.registry import ModelRegistry
    from engine.normalise import Normaliser
    from engine.settings import Settings
    from engine.types import Ticket

    registry = ModelRegistry(Settings())
    encoder = registry.encoder
    texts = [Normaliser.normalise(Ticket(text=t.text, subject=t.subject)).text for t in tickets]
    for text in texts[:warmup] or ["warm-up"]:
        encoder.encode_queries([text])
    seconds = []
    for text in texts:
        t0 = time.perf_counter()
        encoder.encode_queries([text])
        seconds.append(time.perf_counter() - t0)
    return {"encoder_id": encoder.id, **summary_ms(seconds, keep=True)}
