"""The customer help widget and the help centre, end to end in Chromium against a real `sift serve`.

The widget is embedded the way a customer's site does it: one script tag in a page served from another origin
(a tiny http.server on its own port), carrying a widget key that names that origin only. A Croatian visitor
types a question, gets the Croatian article first, reads it inline, says it helped (stored), contacts support
(triaged, acknowledged in Croatian) and, typing something risky, is offered a person instead of an article;
once more with the keyboard alone. axe-core finds no serious or critical WCAG 2.1 AA violation on the open
widget or on the help centre; screenshots at desktop, phone and 200% zoom are saved for a person to look at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from engine.settings import Settings
from engine.store import TicketStore
from engine.store.keys import KeyStore
from engine.store.schema import api_keys
from engine.web.catalog import strings
from tests.api.live import free_port
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, describe, open_browser, screenshot

pytestmark = pytest.mark.slow

QUESTION_HR = "Zaboravio sam lozinku i ne mogu se prijaviti"
ARTICLE_HR = "account-reset-password-hr"
RISKY_HR = "Ne želim više živjeti, sve mi je preteško"
KEY_REFRESH_S = 5.5  # the server re-reads keys every 5 s (engine/api/auth.py)
WAIT_S = 30
HR = strings("hr")

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lumio shop</title></head>
<body><header><a href="#main">Lumio shop</a></header>
<main id="main"><h1>Lumio smart home</h1><p>A customer's site that embeds Sift's help widget.</p></main>
<script src="{base}/widget.js" data-sift-key="{key}" defer></script>
</body></html>
"""


class _Page(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def host_origin() -> Iterator[tuple[str, Callable[[str, str], None]]]:
    """A customer's site on another origin than Sift; ``publish(base, key)`` sets the page it serves."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(base: str, key: str) -> None:
        _Page.body = HOST_PAGE.format(base=base, key=key).encode()

    try:
        yield f"http://127.0.0.1:{port}", publish
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def site(web_server: str, host_origin: tuple[str, Callable[[str, str], None]], data_dir: Path) -> Iterator[dict[str, str]]:
    """The host page's URL with a widget key limited to its origin, and an admin key for the figures.

    Keys make the API closed: they are deleted after, and the wait repeated, so later tests find it open again.
    """
    origin, publish = host_origin
    store = KeyStore(Settings(data_dir=data_dir).database_path)
    _, widget_key = store.create("test-widget", ["suggest"], [origin])
    _, admin_key = store.create("test-admin", ["admin"])
    publish(web_server, widget_key)
    time.sleep(KEY_REFRESH_S)
    try:
        yield {"url": f"{origin}/shop.html", "origin": origin, "admin": admin_key, "base": web_server, "key": widget_key}
    finally:
        with store._db.write() as db:  # noqa: SLF001 - no command deletes keys (revoked ones stay for audits)
            db.execute(delete(api_keys))
        store.close()
        time.sleep(KEY_REFRESH_S)


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - not there yet (stale element, missing node)
            value = None
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


class Widget:
    """The widget inside its shadow root, reached the way a test can (Selenium's shadow_root, CSS only)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        host = wait_for(lambda: driver.find_element("css selector", "#sift-help-widget"), "the widget")
        self.root = host.shadow_root

    def find(self, css: str) -> Any:
        return self.root.find_element("css selector", css)

    def all(self, css: str) -> list[Any]:
        return self.root.find_elements("css selector", css)

    def visible(self, css: str) -> bool:
        found = self.all(css)
        return bool(found) and found[0].is_displayed()

    def options(self) -> list[str]:
        return [o.get_attribute("data-article") for o in self.all("li[role=option]")]

    def focused(self) -> str:
        """The focused element inside the shadow root, as 'tag#id[data-sift]'."""
        return str(self.driver.execute_script(
            "const a = arguments[0].shadowRoot.activeElement; if (!a) return '';"
            "return a.tagName.toLowerCase() + '#' + (a.id || '') + '[' + (a.dataset.sift || '') + ']';",
            self.driver.find_element("css selector", "#sift-help-widget"),
        ))

    def search(self, text: str) -> list[str]:
        self.find("button.launcher").click()
        box = self.find("#sift-q")
        box.clear()
        box.send_keys(text)
        wait_for(lambda: self.find("#sift-status").get_attribute("data-query") == text, f"suggestions for {text!r}")
        return self.options()


def events(base: str, admin: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/v1/reports/deflection", headers={"X-API-Key": admin}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def croatian(tmp_path: Path) -> Iterator[Any]:
    """Chromium whose visitor reads Croatian first (navigator.languages), at desktop size."""
    driver = open_browser(*DESKTOP, profile=tmp_path / "profile", language="hr")
    try:
        yield driver
    finally:
        driver.quit()


def test_croatian_question_finds_the_article_inline_and_the_answer_is_stored(croatian: Any, site: dict[str, str]) -> None:
    before = events(site["base"], site["admin"])
    croatian.get(site["url"])
    widget = Widget(croatian)
    assert widget.find("button.launcher").text == HR["launcher"]
    options = widget.search(QUESTION_HR)
    assert options[0] == ARTICLE_HR, options
    box = widget.find("#sift-q")
    assert box.get_attribute("aria-expanded") == "true" and box.get_attribute("role") == "combobox"
    status = widget.find("#sift-status").text
    assert status == HR["found"].replace("{n}", str(len(widget.options()))), status
    assert widget.find("#sift-panel").get_attribute("lang") == "hr"
    violations = axe_violations(croatian)
    screenshot(croatian, "widget-desktop-suggestions-hr")
    assert not violations, describe(violations)

    widget.all("li[role=option]")[0].click()
    title = wait_for(lambda: widget.find("[data-sift=article-title]").text, "the article")
    assert "lozink" in title.lower()
    wait_for(lambda: widget.find(".body").text, "the article's body")
    screenshot(croatian, "widget-desktop-article-hr")
    widget.find("[data-sift=yes]").click()
    assert wait_for(lambda: widget.find("[data-sift=thanks]").text, "the thanks") == HR["thanks"]

    after = wait_for(
        lambda: (e := events(site["base"], site["admin"]))["languages"].get("hr", {}).get("helped_yes", 0)
        > before["languages"].get("hr", {}).get("helped_yes", 0) and e,
        "the helped event in the deflection figures",
    )
    hr = after["languages"]["hr"]
    assert hr["article_opens"] > before["languages"].get("hr", {}).get("article_opens", 0)
    assert hr["searches"] > before["languages"].get("hr", {}).get("searches", 0)


def test_contact_us_sends_a_ticket_through_triage_and_shows_the_acknowledgement(
    croatian: Any, site: dict[str, str], data_dir: Path
) -> None:
    croatian.get(site["url"])
    widget = Widget(croatian)
    widget.search(QUESTION_HR)
    widget.find("[data-sift=contact]").click()
    assert widget.find("#sift-msg").get_attribute("value") == QUESTION_HR  # prefilled from the search
    widget.find("#sift-email").send_keys("ana.kovac@example.com")
    widget.find("[data-sift=send]").click()
    wait_for(lambda: widget.visible("[data-sift=done]"), "the acknowledgement")
    ack = widget.find("[data-sift=ack]").text
    assert ack.startswith("Dobar dan,") and "odgovorit ćemo" in ack, ack
    reference = widget.find("[data-sift=done] .note").text.split(": ")[-1]
    screenshot(croatian, "widget-desktop-acknowledgement-hr")
    stored = TicketStore(Settings(data_dir=data_dir).database_path)
    try:
        ticket = stored.get(reference)
    finally:
        stored.close()
    assert ticket is not None and ticket["status"] == "processed"
    assert "ana.kovac@example.com" not in str(ticket)  # the address is only a keyed hash in the log
    assert ticket["payload"]["metadata"] == {"source": "widget"}
    # The page got nothing of the triage but what a visitor may read.
    page = croatian.page_source
    assert ticket["result"]["route"]["queue"] not in widget.find("[data-sift=done]").text and "topic" not in page


def test_a_risky_message_is_offered_a_person_not_an_article(croatian: Any, site: dict[str, str]) -> None:
    croatian.get(site["url"])
    widget = Widget(croatian)
    widget.search(RISKY_HR)
    assert widget.visible("[data-sift=person]") and widget.find("[data-sift=person]").text == HR["person"]
    assert widget.options() == [] and widget.find("#sift-q").get_attribute("aria-expanded") == "false"
    assert widget.find("#sift-status").text == HR["person"]
    screenshot(croatian, "widget-desktop-person-hr")
    widget.find("[data-sift=contact]").click()
    assert widget.find("#sift-msg").get_attribute("value") == RISKY_HR


def test_keyboard_only(croatian: Any, site: dict[str, str]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    croatian.get(site["url"])
    widget = Widget(croatian)

    def press(*keys: str) -> None:
        ActionChains(croatian).send_keys(*keys).perform()

    press(Keys.TAB)  # the host page's own link
    press(Keys.TAB)
    assert widget.focused().startswith("button#"), widget.focused()
    press(Keys.ENTER)
    assert widget.focused() == "input#sift-q[]"
    press(QUESTION_HR)
    wait_for(widget.options, "suggestions")
    press(Keys.ARROW_DOWN)
    assert widget.find("#sift-q").get_attribute("aria-activedescendant") == "sift-opt-0"
    press(Keys.ARROW_DOWN, Keys.ARROW_UP)
    assert widget.find("#sift-opt-0").get_attribute("aria-selected") == "true"
    press(Keys.ENTER)
    assert wait_for(lambda: widget.focused() == "h3#[article-title]", "focus on the article's title")
    wait_for(lambda: widget.find(".body").text, "the article's body")
    press(Keys.TAB)
    assert widget.focused() == "button#[yes]", widget.focused()
    screenshot(croatian, "widget-desktop-keyboard-focus-hr")
    press(Keys.ENTER)
    assert wait_for(lambda: widget.find("[data-sift=thanks]").text, "the thanks") == HR["thanks"]
    assert widget.focused() == "button#[back]"  # focus is not lost when the buttons go
    press(Keys.ENTER)
    assert widget.focused() == "input#sift-q[]" and widget.find("#sift-q").get_attribute("value") == QUESTION_HR
    press(Keys.ESCAPE)  # closes the list first
    assert widget.find("#sift-q").get_attribute("aria-expanded") == "false" and not widget.find("#sift-panel").get_attribute("hidden")
    press(Keys.ESCAPE)  # then the panel, focus back on the launcher
    assert widget.find("#sift-panel").get_attribute("hidden") is not None
    assert widget.focused().startswith("button#"), widget.focused()


def emulate(driver: Any, size: tuple[int, int], zoom: int = 1) -> None:
    """The viewport exactly ``size`` (headless Chromium keeps windows at least 500 px wide), or at ``zoom`` the
    layout of a browser zoomed that far: a ``zoom``-th of the CSS pixels, each drawn ``zoom`` times as large."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width // zoom, "height": height // zoom, "deviceScaleFactor": zoom, "mobile": size == PHONE,
    })


def test_phone_and_200_percent_zoom(site: dict[str, str], tmp_path: Path) -> None:
    for name, size, zoom in (("phone", PHONE, 1), ("zoom200", DESKTOP, 2)):
        driver = open_browser(*size, profile=tmp_path / name, language="hr")
        try:
            emulate(driver, size, zoom)
            driver.get(site["url"])
            widget = Widget(driver)
            widget.search(QUESTION_HR)
            assert widget.options()[0] == ARTICLE_HR
            # Nothing spills sideways: no horizontal scrolling, the panel inside the viewport.
            fits = driver.execute_script(
                "const p = arguments[0].shadowRoot.querySelector('#sift-panel').getBoundingClientRect();"
                "return [p.left >= 0, p.right <= window.innerWidth + 0.5,"
                " document.documentElement.scrollWidth <= window.innerWidth];",
                driver.find_element("css selector", "#sift-help-widget"),
            )
            assert fits == [True, True, True], (name, fits)
            # The panel covers the page: Tab stays inside it, from its first control back round to its last.
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.keys import Keys

            widget.find("button.close").click()  # closes; reopen with the keyboard, then walk backwards
            ActionChains(driver).send_keys(Keys.ENTER).perform()
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB, Keys.TAB, Keys.TAB).key_up(Keys.SHIFT).perform()
            assert widget.focused() == "button#[contact]", (name, widget.focused())
            violations = axe_violations(driver)
            screenshot(driver, f"widget-{name}-suggestions-hr")
            assert not violations, describe(violations)
        finally:
            driver.quit()


@pytest.mark.parametrize(("name", "size"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_help_centre_searches_as_you_type_and_is_accessible(
    site: dict[str, str], tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    driver = open_browser(*size, profile=tmp_path / name, language="hr")
    try:
        emulate(driver, size)
        driver.get(f"{site['base']}/help")
        assert driver.find_element("css selector", "html").get_attribute("lang") == "hr"
        driver.find_element("css selector", "#q").send_keys(QUESTION_HR)
        wait_for(lambda: driver.find_elements("css selector", ".results a"), "results as the visitor types")
        wait_for(lambda: driver.find_element("css selector", "#results").get_attribute("data-settled") == QUESTION_HR,
                 "the results once the visitor stopped typing")
        first = driver.find_element("css selector", ".results a")
        assert first.get_attribute("data-article") == ARTICLE_HR
        status = driver.find_element("css selector", "#results-status")
        assert status.get_attribute("aria-live") == "polite" and status.text.startswith(HR["found"].split("{")[0])
        violations = axe_violations(driver)
        screenshot(driver, f"help-{name}-results-hr")
        assert not violations, describe(violations)
        first.click()
        wait_for(lambda: "lozink" in driver.find_element("css selector", "h1").text.lower(), "the article page")
        violations = axe_violations(driver)
        screenshot(driver, f"help-{name}-article-hr")
        assert not violations, describe(violations)
    finally:
        driver.quit()


def test_preview_page_and_the_language_selector(browser: Any, site: dict[str, str]) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(f"{site['base']}/widget?lang=de&key={site['key']}")  # Sift's own page: its own origin
    assert browser.find_element("css selector", "html").get_attribute("lang") == "en"  # the page's own words
    widget = Widget(browser)
    assert widget.find("button.launcher").text == "Hilfe"
    widget.search("Ich habe mein Passwort vergessen")
    assert widget.options()[0].startswith("account-reset-password"), widget.options()
    Select(widget.find("#sift-lang")).select_by_value("hr")  # the visitor overrides the page's language
    assert widget.find("#sift-title").text == strings("hr")["title"]
    assert widget.find("#sift-panel").get_attribute("lang") == "hr"
    wait_for(lambda: widget.find("#sift-status").text.startswith(strings("hr")["found"].split("{")[0]),
             "the search again in Croatian")
    violations = axe_violations(browser)
    screenshot(browser, "widget-preview-desktop-de-to-hr")
    assert not violations, describe(violations)
