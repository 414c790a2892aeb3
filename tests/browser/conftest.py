"""The pages driven in a real browser: Debian's Chromium through its chromedriver, against a real `sift serve`.

Nothing downloads a browser: the test script installs Debian's ``chromium`` and ``chromium-driver`` and the
pinned axe-core from npm (``package.json``); where either is missing the tests skip and say which. Every page
test saves screenshots under ``test-artifacts/screenshots`` for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.models.registry import ModelRegistry
from engine.settings import REPO_ROOT
from tests.api.live import live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

DESKTOP = (1280, 900)
PHONE = (390, 844)
# Axe impacts a page must not have (WCAG 2.1 AA rules only: the bar, not best practices).
BLOCKING_IMPACTS = ("serious", "critical")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.skip(f"Debian's chromium and chromium-driver are not installed ({', '.join(missing)} absent)")
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE} absent: run `npm ci` in the repo root)")


@pytest.fixture(scope="session")
def web_server(data_dir: Path, ready_registry: ModelRegistry) -> Iterator[str]:
    """The base URL of one real server on the session's data dir, shared by every browser test."""
    _require_browser()
    with live_server(data_dir) as base:
        yield base


def chromium_options(width: int, height: int, language: str = "en") -> Any:
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    # The flags that keep Chromium off the network it cannot reach here (and need not reach anywhere).
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--window-size={width},{height}", f"--lang={language}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return options


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Chromium at desktop size; ``open_browser`` gives other sizes and languages."""
    driver = open_browser(*DESKTOP, profile=tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def open_browser(width: int, height: int, profile: Path, language: str = "en") -> Any:
    """A headless Chromium whose ``navigator.languages`` starts with ``language``; the caller quits it."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = chromium_options(width, height, language)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it is now, serious or critical ones only."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));",
        AXE_TAGS,
    )
    return [v for v in result if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as a readable failure message: rule, impact, help and the first offending nodes."""
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:3]]
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} at {targets}")
    return "\n".join(lines)


def screenshot(driver: Any, name: str) -> Path:
    """Saves the page as ``test-artifacts/screenshots/<name>.png`` (CI keeps the folder; people look at it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    """Screenshots from an earlier run would pass for this run's: start the folder empty."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
