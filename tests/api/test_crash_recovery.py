"""Issue #20, end to end: `kill -9` of a real `sift serve` in the middle of a batch of 1,000 tickets, a restart
on the same data directory, and the client resending what it has no answer for. Every ticket ends in the log
exactly once and processed, and what was acknowledged before the kill is unchanged (bench/crash_recovery.py
runs the same and prints the figures). Once on SQLite with 1,000 tickets, once on PostgreSQL with fewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_recovery import Figures, run
from engine.models.registry import ModelRegistry
from tests.store.conftest import PostgresServer, postgres_server  # noqa: F401 - the fixture, for the PostgreSQL run

pytestmark = pytest.mark.slow


def _assert_nothing_lost(figures: Figures, sent: int) -> None:
    assert figures.sent == sent
    assert figures.left_accepted_at_kill > 0, "the kill cut no batch short: nothing was left to recover"
    assert figures.acknowledged_before_kill < sent
    assert (figures.duplicates, figures.lost, figures.not_processed, figures.changed_results) == (0, 0, 0, 0), figures
    assert figures.replays_checked > 0


def test_kill_9_mid_batch_then_restart_loses_and_duplicates_nothing(
    data_dir: Path, ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    figures = run(data_dir, tmp_path, count=1000, batch_size=25, clients=2, kill_after=0.4)
    _assert_nothing_lost(figures, 1000)
    assert figures.acknowledged_before_kill >= 400


def test_the_same_on_postgresql(
    data_dir: Path, ready_registry: ModelRegistry, tmp_path: Path, postgres_server: PostgresServer  # noqa: F811
) -> None:
    figures = run(data_dir, tmp_path, count=300, batch_size=25, clients=2, kill_after=0.4,
                  database_url=postgres_server.create_database())
    _assert_nothing_lost(figures, 300)
    assert figures.database == "postgresql"
