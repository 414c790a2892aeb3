"""The agent console in a real browser against a real `sift serve`: log in with a created key, find a submitted
ticket in the queue, filter, open it, see its draft and citations, correct its topic, edit and send the draft;
the main actions by keyboard alone; axe-core finds no serious or critical WCAG 2.1 AA violation on the login,
queue, ticket and reports pages; screenshots at desktop and phone sizes.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from engine.settings import Settings
from engine.store.keys import KeyStore
from engine.store.schema import api_keys
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, describe, open_browser, screenshot
from tests.conftest import SHARED_DATASETS

pytestmark = pytest.mark.slow

OWN_TICKETS = [
    {"subject": "Need help", "text": "Hello, I would like to know more about your products and services.",
     "channel": "email"},
    {"subject": "Hub offline", "text": "Mein Lumio Hub verbindet sich seit gestern nicht mehr mit dem WLAN. Was kann ich tun?",
     "channel": "email"},
]
# The demo KB answers questions about Lumio's smart-home products: this one gets a draft that cites articles.
ANSWERED = {"subject": "Hub offline", "channel": "email",
            "text": "My Lumio Hub keeps dropping off the Wi-Fi since yesterday. How do I reconnect it to my network?"}
AGENT = "agent-e2e"
SERVER_KEY_REFRESH_S = 12  # the live server re-reads keys every 5 s


def _real_tickets() -> list[dict[str, Any]]:
    """An English and a German ticket from the public multilingual set when it is here, else our own (neither is
    about Lumio's products: the demo KB answers neither, and both are handed off)."""
    path = SHARED_DATASETS / "tickets-multilang" / "dataset-tickets-multi-lang-4-20k.prefix.csv"
    if not path.is_file():
        return OWN_TICKETS
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    picked = [next(r for r in rows if r["language"] == lang and r["body"].strip()) for lang in ("en", "de")]
    return [
        {"subject": r["subject"], "text": r["body"].replace("\\n", "\n"), "channel": "email"} for r in picked
    ]


def _wait(check: Callable[[], bool], what: str, seconds: float = SERVER_KEY_REFRESH_S) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.3)


def _login_needed(base: str) -> bool:
    return httpx.get(f"{base}/console", follow_redirects=False).status_code == 303


@pytest.fixture
def tickets(web_server: str) -> list[dict[str, Any]]:
    """Tickets triaged by the live server while its API is open."""
    r = httpx.post(f"{web_server}/v1/triage/batch", json={"tickets": [ANSWERED, *_real_tickets()]}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()["results"]


@pytest.fixture
def published(settings: Settings) -> Iterator[Path]:
    """One report in the reports folder, as `sift eval` publishes it, for the reports page to list."""
    folder = settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "eval-20261206T080000Z.html"
    path.write_text("<!doctype html><html lang='en'><title>Evaluation</title><h1>Evaluation: demo</h1></html>")
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def keys(settings: Settings) -> Iterator[KeyStore]:
    """The session's key table (the live server's too); emptied after, so other tests see an open API again."""
    store = KeyStore(settings.database_path)
    yield store
    with store._db.write() as db:  # noqa: SLF001 - no command deletes keys (revoked ones stay for the audit trail)
        db.execute(delete(api_keys))
    store.close()


@pytest.fixture
def agent_key(web_server: str, tickets: list[dict[str, Any]], keys: KeyStore) -> Iterator[str]:
    """A feedback key the live server knows; after the test the keys go and the server is open again."""
    _, secret = keys.create(AGENT, ["feedback"])
    _wait(lambda: _login_needed(web_server), "the server requires a login")
    yield secret  # the keys fixture deletes every key afterwards; _reopen waits for the server to notice


@pytest.fixture(autouse=True)
def _reopen(web_server: str) -> Iterator[None]:
    """Other browser tests expect an open API: wait until the live server has dropped the deleted keys."""
    yield
    _wait(lambda: not _login_needed(web_server), "the server is open again", 20)


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def _until(driver: Any, condition: Callable[[Any], Any], seconds: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def _log_in(driver: Any, base: str, secret: str) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/console")
    _until(driver, lambda d: "/console/login" in d.current_url)
    field = driver.find_element(_by("ID"), "key")
    field.send_keys(secret)
    field.send_keys(Keys.ENTER)  # by keyboard: the form submits on Enter
    _until(driver, lambda d: d.find_elements(_by("CSS_SELECTOR"), "table.queue, #queue-count"))


def full_screenshot(driver: Any, name: str) -> Path:
    """The whole page, not only the window (``screenshot``'s): a phone's queue is a long list of cards."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1},
    })
    path = screenshot(driver, name)  # the window, then replaced by the whole page
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _assert_accessible(driver: Any, page: str) -> None:
    violations = axe_violations(driver)
    assert not violations, f"{page}:\n{describe(violations)}"


def _feedback_rows(base: str, secret: str, ticket_id: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/v1/feedback", params={"ticket_id": ticket_id}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _status(driver: Any, text: str) -> None:
    _until(driver, lambda d: text in d.find_element(_by("ID"), "feedback-status").text)


def test_an_agent_works_a_ticket_in_the_console(
    web_server: str, tickets: list[dict[str, Any]], agent_key: str, published: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    answered, real, foreign = tickets
    driver = open_browser(*DESKTOP, profile=tmp_path / "desktop")
    try:
        driver.get(f"{web_server}/console")
        _until(driver, lambda d: "/console/login" in d.current_url)
        _assert_accessible(driver, "login")
        screenshot(driver, "console-login-desktop")
        _log_in(driver, web_server, agent_key)
        for submitted in tickets:
            link = f"a[href='/console/tickets/{submitted['id']}']"
            assert driver.find_elements(_by("CSS_SELECTOR"), link), "a submitted ticket is not in the queue"
        ticket = answered
        link = f"a[href='/console/tickets/{ticket['id']}']"
        assert AGENT in driver.find_element(_by("CSS_SELECTOR"), ".who").text
        _assert_accessible(driver, "queue")
        screenshot(driver, "console-queue-desktop")

        # Filter by the ticket's language: it stays, the other language's goes, and the URL keeps the filter.
        Select(driver.find_element(_by("ID"), "f-language")).select_by_value(ticket["language"]["code"])
        driver.find_element(_by("CSS_SELECTOR"), ".filters button[type=submit]").click()
        _until(driver, lambda d: f"language={ticket['language']['code']}" in d.current_url)
        assert driver.find_elements(_by("CSS_SELECTOR"), link)
        if foreign["language"]["code"] != ticket["language"]["code"]:
            assert not driver.find_elements(_by("CSS_SELECTOR"), f"a[href='/console/tickets/{foreign['id']}']")
        screenshot(driver, "console-queue-filtered-desktop")

        driver.find_element(_by("CSS_SELECTOR"), link).click()
        _until(driver, lambda d: d.find_elements(_by("ID"), "h-triage"))
        draft = driver.find_element(_by("ID"), "draft")
        assert draft.get_attribute("value").strip() == ticket["draft"]["text"].strip()
        citations = [c.text for c in driver.find_elements(_by("CSS_SELECTOR"), ".citations li")]
        assert ticket["draft"]["citations"] and len(citations) == len(ticket["draft"]["citations"])
        assert all(cited in text for cited, text in zip(ticket["draft"]["citations"], citations, strict=True))
        _assert_accessible(driver, "ticket")
        full_screenshot(driver, "console-ticket-desktop")

        # Correct the topic: one click on Save, and the feedback store has it under the key's name.
        topics = Select(driver.find_element(_by("ID"), "correct-topic"))
        other = next(o.get_attribute("value") for o in topics.options if o.get_attribute("value") != ticket["topic"]["label"])
        topics.select_by_value(other)
        driver.find_element(_by("XPATH"), "//button[normalize-space()='Save topic']").click()
        _status(driver, "Topic correction saved")
        rows = _feedback_rows(web_server, agent_key, ticket["id"])
        assert any(r["topic"] == other and r["agent_id"] == AGENT for r in rows), rows

        # Edit the draft and send it: the edit distance is recorded, the text is not.
        draft = driver.find_element(_by("ID"), "draft")
        draft.send_keys(" Best wishes from the console test.")
        driver.find_element(_by("XPATH"), "//button[normalize-space()='Send reply']").click()
        _status(driver, "Draft marked as sent")
        assert driver.find_element(_by("ID"), "feedback-status").is_displayed()  # floats where the agent looks
        sent = [r for r in _feedback_rows(web_server, agent_key, ticket["id"]) if r["draft_action"] == "sent"]
        assert sent and 0 < sent[0]["draft_edit_distance"] < 0.5, sent
        screenshot(driver, "console-ticket-feedback-desktop")

        # The real ticket from the public set: its draft is there too (a holding reply: the KB cannot answer it).
        driver.get(f"{web_server}/console/tickets/{real['id']}")
        assert driver.find_element(_by("ID"), "draft").get_attribute("value").strip() == real["draft"]["text"].strip()
        screenshot(driver, "console-ticket-real-desktop")

        # The foreign-language ticket shows the original beside the gist (this browser reads English only).
        driver.get(f"{web_server}/console/tickets/{foreign['id']}")
        if foreign["language"]["code"] != "en":
            assert driver.find_elements(_by("CSS_SELECTOR"), ".gist"), "no original-beside-gist for a foreign ticket"
        _assert_accessible(driver, "foreign ticket")
        screenshot(driver, "console-ticket-foreign-desktop")

        driver.get(f"{web_server}/console/reports")
        assert driver.find_element(_by("ID"), "fig-distance").text != "–"
        _assert_accessible(driver, "reports")
        screenshot(driver, "console-reports-desktop")
        driver.find_element(_by("LINK_TEXT"), published.name).click()
        _until(driver, lambda d: "Evaluation: demo" in d.page_source)
    finally:
        driver.quit()


def _tab_to(driver: Any, matches: Callable[[Any], bool], presses: int = 80) -> Any:
    """Press Tab until the focused element satisfies ``matches``; fail when it never does."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = driver.switch_to.active_element
        if matches(element):
            outline = driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", element)
            assert outline != "none", f"no visible focus on {element.tag_name} {element.text!r}"
            return element
    pytest.fail("the element was never reached by Tab")


def test_the_main_actions_work_by_keyboard_alone(
    web_server: str, tickets: list[dict[str, Any]], agent_key: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.keys import Keys

    ticket = tickets[0]
    driver = open_browser(*DESKTOP, profile=tmp_path / "keyboard")
    try:
        _log_in(driver, web_server, agent_key)
        skip = _tab_to(driver, lambda e: e.text == "Skip to content")
        skip.send_keys(Keys.ENTER)
        opened = _tab_to(driver, lambda e: (e.get_attribute("href") or "").endswith(ticket["id"]), 200)
        opened.send_keys(Keys.ENTER)
        _until(driver, lambda d: d.find_elements(_by("ID"), "h-triage"))
        select = _tab_to(driver, lambda e: e.get_attribute("id") == "correct-urgency", 200)
        select.send_keys(Keys.END)  # the last level: urgent
        save = _tab_to(driver, lambda e: e.text == "Save urgency")
        save.send_keys(Keys.ENTER)
        _status(driver, "Urgency correction saved")
        helped = _tab_to(driver, lambda e: e.text.startswith("Yes"), 120)
        helped.send_keys(Keys.ENTER)
        _status(driver, "Article rating saved")
        assert helped.get_attribute("aria-pressed") == "true"
        rows = _feedback_rows(web_server, agent_key, ticket["id"])
        assert any(r["urgency"] == "urgent" for r in rows) and any(r["article_helped"] is True for r in rows)
    finally:
        driver.quit()


def test_console_pages_at_phone_size(
    web_server: str, tickets: list[dict[str, Any]], agent_key: str, tmp_path: Path
) -> None:
    driver = open_browser(*PHONE, profile=tmp_path / "phone")
    # Headless Chromium keeps a window at least 500 pixels wide: emulate the phone's viewport itself.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.get(f"{web_server}/console")
        _until(driver, lambda d: "/console/login" in d.current_url)
        screenshot(driver, "console-login-phone")
        _log_in(driver, web_server, agent_key)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0] + 1, f"the queue scrolls sideways on a phone ({width}px)"
        _assert_accessible(driver, "queue (phone)")
        full_screenshot(driver, "console-queue-phone")
        for name, path in (("ticket", f"/console/tickets/{tickets[0]['id']}"), ("reports", "/console/reports")):
            driver.get(f"{web_server}{path}")
            width = driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= PHONE[0] + 1, f"the {name} page scrolls sideways on a phone ({width}px)"
            _assert_accessible(driver, f"{name} (phone)")
            full_screenshot(driver, f"console-{name}-phone")
    finally:
        driver.quit()
