"""What the backfill tests share: a ticket file from the shipped demo tickets, reading and comparing outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.settings import REPO_ROOT

DEMO = REPO_ROOT / "data" / "demo_tickets.jsonl"


def ticket_file(path: Path, n: int, blank_every: int = 0) -> Path:
    """The first ``n`` demo tickets (text and subject) as .jsonl; every ``blank_every``-th text left empty."""
    lines = DEMO.read_text(encoding="utf-8").splitlines()[:n]
    with path.open("w", encoding="utf-8") as fh:
        for i, line in enumerate(lines):
            row = json.loads(line)
            text = "" if blank_every and i % blank_every == blank_every - 1 else row["text"]
            fh.write(json.dumps({"text": text, "subject": row.get("subject") or ""}, ensure_ascii=False) + "\n")
    return path


def said(result: Any) -> str:
    """A CLI result's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def read_out(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_complete_once(path: Path, n: int) -> list[dict[str, Any]]:
    """Every row of the input in the output exactly once, in input order, each with a result or an error."""
    rows = read_out(path)
    ids = [r["ticket_id"] for r in rows]
    assert len(ids) == len(set(ids)), "a ticket was written twice"
    assert [r["row"] for r in rows] == list(range(n))
    assert all("topic" in r or "error" in r for r in rows)
    return rows


# What two runs of the same ticket can tell apart, and why: the ticket log's id is a fresh uuid on every triage
# (and the draft's reviewed wording variant is picked by a hash of it); timings are measured; the
# acknowledgement, its due time and the out-of-hours notice are computed from the clock at triage time.
NONDETERMINISTIC = ("id", "timings_ms")
CLOCK_AUTOMATIONS = ("acknowledgement", "first_response_due", "out_of_hours", "out_of_hours_notice", "tags")


def deterministic(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without the fields above: what must be identical whichever runner triaged the ticket."""
    kept = {k: v for k, v in record.items() if k not in NONDETERMINISTIC}
    if kept.get("draft"):
        # The quoted sentences too: a sentence is encoded in the batch of the process that first quotes it, and int8
        # vectors depend on their batch a hair (docs/results.md, Known limits), enough to flip a near-tie between
        # quoting one sentence more or less. The cited sections are compared.
        kept["draft"] = {k: v for k, v in kept["draft"].items() if k not in ("text", "quotes")}
    if kept.get("automations"):
        kept["automations"] = {k: v for k, v in kept["automations"].items() if k not in CLOCK_AUTOMATIONS}
    return kept


def sift_process(args: list[str]) -> subprocess.Popen[bytes]:
    """`sift ARGS` in a process of its own (so that a test can kill -9 it), on this test's environment."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import app; app()", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


def kill_when_written(proc: subprocess.Popen[bytes], out: Path, at_least: int, timeout_s: float = 600) -> int:
    """SIGKILL ``proc`` once ``out`` holds ``at_least`` lines; the lines it held then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"finished before it was killed: {proc.stdout.read().decode() if proc.stdout else ''}")
        if out.exists() and out.read_bytes().count(b"\n") >= at_least:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return out.read_bytes().count(b"\n")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    raise AssertionError(f"{out} never reached {at_least} lines")
