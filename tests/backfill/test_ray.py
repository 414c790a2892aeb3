"""`sift triage-file --ray`: the single-process results, a worker killed (restarted, batch retried), a driver killed.

One local Ray (2 CPUs) serves the module: the CLI uses the Ray this process started, and a driver in a process of
its own joins it by address. Each Ray worker loads the models once; that dominates these tests' time.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from tests.backfill.helpers import (
    assert_complete_once,
    deterministic,
    kill_when_written,
    read_out,
    said,
    sift_process,
    ticket_file,
)

ray = pytest.importorskip("ray")
runner = CliRunner()


@pytest.fixture(scope="module")
def ray_address(ready_registry: ModelRegistry) -> Iterator[str]:
    context = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["address"]
    ray.shutdown()


def _alive_workers() -> list[dict[str, Any]]:
    """The backfill's live actors, from Ray's own actor table (pid, restarts)."""
    import ray._private.state as state  # the actor table without the dashboard (ray[default]) the state API needs

    return [
        a for a in state.actors().values()
        if a["State"] == "ALIVE" and str(a.get("Name") or "").startswith("sift-backfill")
    ]


@pytest.mark.slow
def test_ray_results_are_the_single_process_results(ray_address: str, tmp_path: Path) -> None:
    src = ticket_file(tmp_path / "tickets.jsonl", 60, blank_every=20)
    common = ["triage-file", str(src), "--subject-column", "subject", "--batch-size", "16"]
    single = runner.invoke(app, [*common, "--out", str(tmp_path / "single.jsonl")])
    assert single.exit_code == 0, single.output
    on_ray = runner.invoke(app, [*common, "--out", str(tmp_path / "ray.jsonl"), "--ray", "--workers", "2"])
    assert on_ray.exit_code == 0, on_ray.output
    assert "wrote 60 results" in said(on_ray)

    one, other = assert_complete_once(tmp_path / "single.jsonl", 60), assert_complete_once(tmp_path / "ray.jsonl", 60)
    assert [r["ticket_id"] for r in one] == [r["ticket_id"] for r in other]
    triaged = [r for r in one if "topic" in r]
    assert len(triaged) == 57 and {r["language"]["code"] for r in triaged} >= {"en", "de"}
    for a, b in zip(one, other, strict=True):
        assert deterministic(a) == deterministic(b), a["ticket_id"]
        if "topic" in a:  # spelled out, the fields users read
            for field in ("language", "topic", "urgency", "route", "handoff", "sentiment"):
                assert a[field] == b[field]
            assert [x["id"] for x in a["articles"]] == [x["id"] for x in b["articles"]]
    assert not _alive_workers(), "the run's workers outlived it"


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_each_ticket_written_once(ray_address: str, tmp_path: Path) -> None:
    n = 240
    src = ticket_file(tmp_path / "tickets.jsonl", n)
    out = tmp_path / "out.jsonl"
    args = ["triage-file", str(src), "--out", str(out), "--batch-size", "8", "--ray", "--workers", "2"]
    results: list[Any] = []
    run = threading.Thread(target=lambda: results.append(runner.invoke(app, args)))
    run.start()
    deadline = time.monotonic() + 600
    while not (out.exists() and out.read_bytes().count(b"\n") >= 16):  # both workers loaded and busy
        assert run.is_alive() and time.monotonic() < deadline, "the run ended before a worker could be killed"
        time.sleep(0.02)
    victim = _alive_workers()[0]
    os.kill(victim["Pid"], signal.SIGKILL)
    killed_at = out.read_bytes().count(b"\n")
    run.join(timeout=900)
    assert not run.is_alive()
    assert results[0].exit_code == 0, results[0].output
    assert killed_at < n, "the kill came after the last batch"
    assert_complete_once(out, n)


@pytest.mark.slow
def test_a_killed_driver_resumes_and_writes_each_ticket_once(ray_address: str, tmp_path: Path) -> None:
    n = 160
    src = ticket_file(tmp_path / "tickets.jsonl", n)
    out = tmp_path / "out.jsonl"
    args = ["triage-file", str(src), "--out", str(out), "--batch-size", "8", "--workers", "1"]
    held = kill_when_written(sift_process([*args, "--ray-address", ray_address]), out, at_least=16)
    assert held < n
    deadline = time.monotonic() + 60  # Ray ends a dead driver's actors by itself
    while _alive_workers():
        assert time.monotonic() < deadline, "the killed driver's workers live on"
        time.sleep(0.2)

    again = runner.invoke(app, [*args, "--ray"])
    assert again.exit_code == 0, again.output
    assert f"{held} already there" in said(again)
    assert_complete_once(out, n)
    assert len(read_out(out)) == n
