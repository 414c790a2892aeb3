"""bench.load end to end, bounded: `sift serve --workers 2` on the session's data directory, a short saturation
search and a 10 s open-loop hold (issue #20). Figures are not checked (too short, machine shared): that no request
failed, that both workers served, and that the figures are printed and written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import load
from bench.tickets import DATASETS
from engine.models.registry import ModelRegistry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATASETS.is_dir(), reason=f"{DATASETS} is missing (shared/datasets)"),
]


def test_open_loop_load_on_two_workers_has_no_errors_and_prints_its_figures(
    ready_registry: ModelRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--workers", "2", "--duration", "10", "--start-rate", "1", "--max-rate", "2", "--step-s", "3",
            "--tickets", "60", "--data-dir", str(ready_registry.settings.data_dir), "--results-dir", str(tmp_path)]
    assert load.main(args) == 0
    printed = capsys.readouterr().out
    for figure in ("saturation", "errors 0", "latency p50", "p95", "p99", "achieved", "server RSS total: start"):
        assert figure in printed, printed
    (written,) = tmp_path.glob("load-*.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    hold = result["hold"]
    assert hold["errors"] == 0 and hold["answered"] == hold["sent"] > 0
    assert set(hold["by_kind"]) == {"triage", "suggest"}
    assert 1 <= result["saturation_rate"] <= 2 and result["search"]
    roles = [p["role"] for p in result["memory"]["hold_end"]["processes"].values()]
    assert roles.count("worker") == 2 and roles.count("supervisor") == 1
    assert all(p["uss_mib"] > 0 for p in result["memory"]["hold_end"]["processes"].values())
