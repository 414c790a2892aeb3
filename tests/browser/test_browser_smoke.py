"""The browser harness itself: Chromium starts offline, loads a page of the real server, axe runs in it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.slow


def test_chromium_loads_the_api_docs_and_axe_runs(web_server: str, browser: Any) -> None:
    browser.get(f"{web_server}/healthz")
    assert "ok" in browser.page_source
    browser.get(f"{web_server}/docs")
    assert browser.title
    assert isinstance(axe_violations(browser), list)
    assert screenshot(browser, "harness-docs").stat().st_size > 1000
