"""The two pages together, as issue #23 describes the day: a customer asks in Croatian in the widget on the
shop's own site, finds the article, still writes to support; an agent finds that ticket in the console with its
draft and corrects its topic, and the correction is in the feedback store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import axe_violations, describe, screenshot
from tests.browser.test_console import _log_in, _status, _until
from tests.browser.test_widget import (  # noqa: F401 - fixtures: pytest finds them by name in this module
    ARTICLE_HR,
    QUESTION_HR,
    Widget,
    croatian,
    host_origin,
    site,
    wait_for,
)

pytestmark = pytest.mark.slow


def test_a_widget_ticket_reaches_the_console_and_its_correction_is_stored(
    croatian: Any, site: dict[str, str]  # noqa: F811 - the imported fixtures
) -> None:
    from selenium.webdriver.support.ui import Select

    croatian.get(site["url"])
    widget = Widget(croatian)
    assert widget.search(QUESTION_HR)[0] == ARTICLE_HR
    widget.find("[data-sift=contact]").click()
    widget.find("#sift-email").send_keys("ivan.horvat@example.com")
    widget.find("[data-sift=send]").click()
    wait_for(lambda: widget.visible("[data-sift=done]"), "the acknowledgement")
    reference = widget.find("[data-sift=done] .note").text.split(": ")[-1]

    _log_in(croatian, site["base"], site["admin"])
    croatian.get(f"{site['base']}/console/tickets/{reference}")
    _until(croatian, lambda d: d.find_elements("id", "h-triage"))
    assert QUESTION_HR in croatian.find_element("css selector", "body").text  # the customer's words, as logged
    assert croatian.find_element("id", "draft").get_attribute("value").strip()  # a draft to edit
    violations = axe_violations(croatian)
    screenshot(croatian, "console-ticket-from-widget-hr")
    assert not violations, describe(violations)

    topics = Select(croatian.find_element("id", "correct-topic"))
    topics.select_by_value("account")
    croatian.find_element("xpath", "//button[normalize-space()='Save topic']").click()
    _status(croatian, "Topic correction saved")
    stored = httpx.get(
        f"{site['base']}/v1/feedback", params={"ticket_id": reference}, headers={"X-API-Key": site["admin"]}, timeout=30
    ).json()["items"]
    assert [(r["topic"], r["agent_id"]) for r in stored] == [("account", "test-admin")]
