"""Small measuring tools shared by the benchmark's parts: percentiles, peak resident memory, result files."""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_result(record: dict[str, Any], results_dir: Path, prefix: str, started: datetime) -> Path:
    """``record`` as ``<results_dir>/<prefix><UTC start time>.json``, named by when the run started."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{prefix}{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default method)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary_ms(seconds: list[float], keep: bool = False) -> dict[str, Any]:
    """p50 / p95 / mean / max of durations given in seconds, in milliseconds; ``keep`` adds each one, in order."""
    ms = [s * 1000 for s in seconds]
    return {
        **({"each_ms": [round(m, 3) for m in ms]} if keep else {}),
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else math.nan,
        "max_ms": round(max(ms), 2) if ms else math.nan,
    }


def reporter(name: str, steps: int = 10) -> Callable[[int, int], None]:
    """A progress callback that prints ``name: done/total`` to stderr about ``steps`` times over a run."""
    last = [-1]

    def report(done: int, total: int) -> None:
        step = done * steps // max(total, 1)
        if step != last[0]:
            last[0] = step
            print(f"  {name}: {done}/{total}", file=sys.stderr, flush=True)

    return report


def high_water_mib(pid: int | str = "self") -> float | None:
    """The kernel's own peak resident set (VmHWM) of a live process, where /proc has it (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / MIB
    except (OSError, ValueError, IndexError):
        return None
    return None


class RssSampler:
    """Samples the resident memory of a process and its children in a thread; keeps the peak.

    The sampled peak can miss a spike shorter than the interval, so ``result`` also reads the kernel's
    high-water mark (VmHWM) of the main process while it is alive and reports the larger of the two.
    """

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"rss-{pid}", daemon=True)
        self.peak_bytes = 0
        self.samples = 0
        self.hwm_mib: float | None = None

    def _rss(self) -> int:
        import psutil

        total = 0
        for proc in [self._process, *self._process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def _loop(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._rss())
                self.samples += 1
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self._interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def current_mib(self) -> float:
        return self._rss() / MIB

    def __enter__(self) -> RssSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop sampling; call while the process is still alive so its high-water mark can be read."""
        if self.hwm_mib is None:
            self.hwm_mib = high_water_mib(self._process.pid)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def result(self) -> dict[str, Any]:
        sampled = self.peak_bytes / MIB
        peak = max(sampled, self.hwm_mib or 0.0)
        return {
            "peak_rss_mib": round(peak, 1),
            "sampled_peak_mib": round(sampled, 1),
            "kernel_hwm_mib": round(self.hwm_mib, 1) if self.hwm_mib is not None else None,
            "samples": self.samples,
        }
