"""Starting `sift serve` as a real uvicorn process for the live tests, and stopping it whatever happens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from engine.settings import REPO_ROOT

STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(
    data_dir: Path, output: IO[bytes] | int = subprocess.PIPE, settings_file: Path | None = None
) -> Iterator[str]:
    """The base URL of a ready server on ``data_dir``; its output goes to ``output`` (a pipe by default).

    The installed entry point, as operators run it (``.venv/bin/sift serve``), started from the repo root, with
    ``settings_file`` as its sift.toml when given.
    """
    port = free_port()
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    if settings_file is not None:
        env["SIFT_SETTINGS_FILE"] = str(settings_file)
    sift = Path(sys.executable).parent / "sift"
    proc = subprocess.Popen(
        [str(sift), "serve", "--port", str(port)], cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                said = proc.stdout.read().decode() if proc.stdout else "(see its log file)"
                pytest.fail(f"server exited early: {said[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("server did not become ready in time")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
