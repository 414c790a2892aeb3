"""The speed benchmark's parts run end to end on a handful of tickets (figures are not checked: too few)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.measure import percentile
from bench.peer import default_encoder_path, is_checkpoint
from bench.report import check_targets
from bench.tickets import DATASETS, draw_tickets
from engine.models.registry import ModelRegistry

CHECKPOINT = default_encoder_path()
needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"{DATASETS} is missing (shared/datasets)")


def test_percentile_and_targets() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    verdict = {t["figure"]: t["met"] for t in check_targets({"batch_vs_peer": 6.0, "p50_over_encoder": 2.0})}
    assert verdict["batch_vs_peer"] is True and verdict["p50_over_encoder"] is False
    assert verdict["sift_batch_tickets_per_s"] is None


@needs_datasets
def test_draw_is_deterministic_and_a_prefix_of_larger_draws() -> None:
    small, large = draw_tickets(6), draw_tickets(40)
    assert small == large[:6] == draw_tickets(6)
    assert {t.source for t in small} == {"bitext-customer-support", "tickets-multilang"}


@pytest.mark.slow
@needs_datasets
@pytest.mark.skipif(
    not is_checkpoint(CHECKPOINT),
    reason=f"no converted encoder at {CHECKPOINT}: `sift models convert` (run by set-up) writes it",
)
def test_peer_and_sift_in_process_on_five_tickets(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="the peer needs sentence-transformers")
    from bench.peer import run_peer
    from bench.sift_inproc import encoder_floor, run_sift_batch

    tickets = draw_tickets(5)
    peer = run_peer(tickets, CHECKPOINT, threads=2, demo_limit=24, sentiment_per_class=2)
    assert peer["tickets"] == 5 and peer["tickets_per_s"] > 0
    assert set(peer["stage_p50_ms"]) == {"language", "sentiment", "topic", "retrieve", "entities"}

    batch = run_sift_batch(tickets, batch_size=2, warmup_tickets=1)
    assert batch["tickets"] == 5 and batch["tickets_per_s"] > 0
    assert batch["failed_stages"] == {}
    assert "encode" in batch["stage_ms_per_ticket"]

    floor = encoder_floor(tickets[:3])
    assert floor["n"] == 3 and 0 < floor["p50_ms"] <= floor["max_ms"]
