"""The HTML reports agents open from the console, in a real headless Chromium: every plot present and decoded.

`sift eval` and `sift backtest` run for real (the shipped models, demo tickets) and write their JSON; the page is
rendered from that JSON by the same code that writes the HTML, opened as a file:// page (offline: the page must
carry its plots), and every ``<img>`` must have decoded (``naturalWidth > 0``), as many as the report's plots.
A full-page screenshot of each lands in test-artifacts/screenshots for a person to look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.report import backtest, evaluation
from engine.report.plots import plots as evaluation_plots
from engine.settings import REPO_ROOT
from tests.browser.conftest import axe_violations, describe, screenshot
from tests.report.test_backtest_cli import past_tickets

pytestmark = pytest.mark.slow
IMAGES = "return Array.from(document.images).map(i => [i.closest('figure')?.id, i.complete, i.naturalWidth]);"


def open_whole_page(driver: Any, page: Path, name: str) -> list[list[Any]]:
    """Open ``page``, size the window to all of it, save the screenshot; each image's (figure id, complete, width)."""
    driver.get(page.as_uri())
    height = int(driver.execute_script("return document.documentElement.scrollHeight;"))
    # The viewport itself made as tall as the page (a window size would leave the browser's own frame out of it).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": min(height, 16_000), "deviceScaleFactor": 1, "mobile": False},
    )
    screenshot(driver, name)
    return list(driver.execute_script(IMAGES))


def test_eval_report_shows_every_plot(ready_registry: ModelRegistry, browser: Any, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[::20]))
    done = CliRunner().invoke(
        app, ["eval", str(data), "--topic-column", "topic", "--urgency-column", "urgency", "--out", str(tmp_path / "e.json")]
    )
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "e.json").read_text())
    page = tmp_path / "eval.html"
    evaluation.write(report, page)
    images = open_whole_page(browser, page, "report-eval")
    expected = {f"plot-{name}" for name in evaluation_plots(report)}
    assert {figure for figure, _, _ in images} == expected and len(images) == len(expected)
    assert all(complete and width > 0 for _, complete, width in images), images
    violations = axe_violations(browser)
    assert not violations, describe(violations)


def test_backtest_report_shows_every_plot(ready_registry: ModelRegistry, browser: Any, tmp_path: Path) -> None:
    data = past_tickets(tmp_path / "past.csv", every=30)
    columns = ["--text-column", "body", "--topic-column", "topic", "--queue-column", "queue", "--date-column",
               "created", "--channel-column", "via"]
    done = CliRunner().invoke(app, ["backtest", str(data), *columns, "--out", str(tmp_path / "b.json")])
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "b.json").read_text())
    page = tmp_path / "backtest.html"
    backtest.write(report, page)
    images = open_whole_page(browser, page, "report-backtest")
    assert [figure for figure, _, _ in images] == [f"plot-{name}" for name in report["plots"]]
    assert len(report["plots"]) == 6  # four breakdowns, topics over time, handoff reasons
    assert all(complete and width > 0 for _, complete, width in images), images
    violations = axe_violations(browser)
    assert not violations, describe(violations)
