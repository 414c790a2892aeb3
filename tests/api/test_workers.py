"""`sift serve --workers 2` (issue #20): a rolling restart (SIGHUP) brings a new index build to every worker while
requests keep being answered, none of them with a 503: a new worker accepts connections only once it has loaded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from bench.load import all_ready, serve, stop_tree
from bench.server import prepare_data_dir
from engine.models.registry import ModelRegistry
from engine.retrieve.index import CURRENT

pytestmark = pytest.mark.slow


def _new_build(index_root: Path) -> str:
    """A copy of the current build under a new name and stamp, made current the way `sift index` does."""
    current = index_root / (index_root / CURRENT).read_text().strip()
    stamp = "29991231T000000000000"
    shutil.copytree(current, index_root / stamp)
    meta = json.loads((index_root / stamp / "meta.json").read_text())
    (index_root / stamp / "meta.json").write_text(json.dumps({**meta, "built_at": stamp}))
    (index_root / f".{CURRENT}.tmp").write_text(stamp)
    (index_root / f".{CURRENT}.tmp").replace(index_root / CURRENT)
    return stamp


def test_sighup_rolls_a_new_build_into_every_worker_without_a_failed_request(
    ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    data_dir = prepare_data_dir(ready_registry.settings.data_dir, tmp_path / "data")
    log = tmp_path / "serve.log"
    proc, base = serve(data_dir, 2, log)
    statuses: list[int | str] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while not stop.is_set():
                try:
                    statuses.append(client.get("/v1/articles/suggest", params={"q": "Where is my parcel?"}).status_code)
                except httpx.HTTPError as exc:
                    statuses.append(type(exc).__name__)
                time.sleep(0.1)

    try:
        all_ready(proc, base, log)
        stamp = _new_build(data_dir / "index")
        sender = threading.Thread(target=traffic)
        sender.start()
        os.kill(proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 900
        seen = 0
        while seen < 20:  # the new build on 20 fresh connections in a row: both workers serve it
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            r = httpx.get(f"{base}/readyz", timeout=30)
            seen = seen + 1 if r.status_code == 200 and r.json()["index"]["built_at"] == stamp else 0
            time.sleep(0.2)
        time.sleep(2)
        stop.set()
        sender.join()
    finally:
        stop.set()
        stop_tree(proc)
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert "restarting processes" in log.read_text()
