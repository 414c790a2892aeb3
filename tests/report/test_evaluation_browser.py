"""The evaluation report opens in headless Chromium, offline, with every plot drawn (checked in a screenshot).

Runs where ``chromium`` or ``chromium-browser`` (or ``google-chrome``) is on PATH; skips naming what is missing
otherwise. The browser gets no network: every plot must come from the page itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.eval_report import synthetic
from engine.report.evaluation import build_report, write

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
PLOTS = 6  # both confusion matrices and reliability diagrams, risk-coverage, retrieval

pytestmark = pytest.mark.skipif(BROWSER is None, reason=f"no headless browser on PATH (looked for {', '.join(BROWSERS)})")


def _chromium(*args: str) -> str:
    assert BROWSER is not None
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         "--proxy-bypass-list=<-loopback>", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return done.stdout


def test_report_renders_offline_with_every_plot(tmp_path: Path) -> None:
    from PIL import Image

    labelled, results = synthetic(300)
    page = tmp_path / "report.html"
    write(build_report(labelled, results, [5.0] * 300, [64] * 300, "synthetic.csv", 4), page)
    # The DOM after rendering: each plot an <img> the browser decoded (naturalWidth > 0 needs a script, so the
    # screenshot below checks the pixels instead).
    dom = _chromium("--dump-dom", page.as_uri())
    assert len(re.findall(r'<figure id="plot-[^"]+"><img src="data:image/png;base64,', dom)) == PLOTS
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,9000", "--hide-scrollbars", page.as_uri())
    r, g, b = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int32).transpose(2, 0, 1)
    # A broken image is a small grey icon; drawn plots bring their colours: the confusion matrices' blues and
    # the retrieval plot's orange bars (the page's last plot, so the whole page was drawn).
    blue = int(((b > 150) & (b - r > 60)).sum())
    orange = int(((r > 220) & (g > 100) & (g < 160) & (b < 60)).sum())
    assert blue > 20_000, f"only {blue} blue pixels: the confusion matrices did not render"
    assert orange > 500, f"only {orange} orange pixels: the retrieval plot did not render"
