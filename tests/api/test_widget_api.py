"""The widget's endpoints and pages through the app: validation naming the field, origins, what a visitor gets
back, the deflection figures, and the help centre working without JavaScript."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.settings import Settings
from engine.store import TicketStore
from engine.store.keys import KeyStore
from engine.web import catalog
from engine.web.widget import widget_script

SHOP = "https://shop.example"
QUESTION_HR = "Zaboravio sam lozinku i ne mogu se prijaviti"
ARTICLE_HR = "account-reset-password-hr"
RISKY = "I don't want to live anymore, I have been saving up pills"
TICKET = {"email": "ana.kovac@example.com", "message": "Ne mogu se prijaviti, poveznica ne stiže.", "language": "hr"}


def session() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- the catalog (no models)


def test_every_language_has_every_string_with_its_placeholders() -> None:
    strings = catalog.catalog()
    assert len(strings) == 16 and set(strings) == set(catalog.ENDONYMS)
    english = strings["en"]
    for code, table in strings.items():
        assert set(table) == set(english), code
        for name, text in table.items():
            assert text.strip() and re.findall(r"\{\w+\}", text) == re.findall(r"\{\w+\}", english[name]), (code, name)
    assert strings["hr"]["helped"] != english["helped"]


@pytest.mark.parametrize(
    ("asked", "accept", "expected"),
    [("hr", None, "hr"), ("HR-hr", None, "hr"), (None, "de-AT,de;q=0.9,en;q=0.5", "de"), ("xx", "nb-NO", "no"),
     (None, "ja,ko;q=0.8", "en"), (None, "en;q=0.2,sl;q=0.9", "sl"), (None, None, "en")],
)
def test_page_language(asked: str | None, accept: str | None, expected: str) -> None:
    assert catalog.negotiate(asked, accept) == expected


def test_the_served_script_carries_the_strings() -> None:
    script = widget_script()
    assert "SIFT_STRINGS" not in script and "SIFT_ENDONYMS" not in script
    assert catalog.strings("hr")["search_label"] in script and "Hrvatski" in script


# ---------------------------------------------------------------- through the app (real models)

@pytest.mark.slow
def test_suggest_offers_a_person_for_a_risky_question(client: TestClient) -> None:
    risky = client.get("/v1/articles/suggest", params={"q": RISKY, "lang": "en"}).json()
    assert risky["handoff"] is True and risky["articles"] == [] and risky["answer_confidence"] == 0.0
    plain = client.get("/v1/articles/suggest", params={"q": QUESTION_HR, "lang": "hr"}).json()
    assert plain["handoff"] is False and plain["articles"][0]["id"] == ARTICLE_HR


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": None}, "email"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 10_001}, "message"),
        ({"language": "croatian"}, "language"),
        ({"session": "short"}, "session"),
        ({"kb": "no-such-kb"}, "kb"),
        ({"topic": "billing"}, "topic"),
    ],
)
def test_widget_ticket_validation_names_the_field(client: TestClient, change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**TICKET, **change}.items() if v is not None}
    r = client.post("/v1/widget/tickets", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


@pytest.mark.slow
def test_widget_ticket_is_triaged_and_answers_only_what_a_visitor_may_read(client: TestClient, settings: Settings) -> None:
    visit = session()
    r = client.post("/v1/widget/tickets", json={**TICKET, "session": visit, "name": "Ana Kovač"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "acknowledgement", "language", "handoff"}
    assert body["language"] == "hr" and body["acknowledgement"].startswith("Dobar dan,")
    assert isinstance(body["handoff"], bool)
    store = TicketStore(settings.database_path)
    try:
        stored = store.get(body["id"])
    finally:
        store.close()
    assert stored is not None and stored["status"] == "processed" and stored["channel"] == "web"
    assert "ana.kovac@example.com" not in str(stored) and "Kovač" not in str(stored)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "shown"}, "kind"),
        ({"session": "bad id!"}, "session"),
        ({"language": "hrv-HR"}, "language"),
        ({"kind": "open"}, "article_id"),
        ({"kind": "helped"}, "article_id"),
        ({"article_id": ARTICLE_HR}, "article_id"),
        ({"kind": "open", "article_id": ARTICLE_HR, "results": 3}, "results"),
        ({"results": -1}, "results"),
        ({"text": "what I typed"}, "text"),
        ({"kb": "no-such-kb"}, "kb"),
        ({"kind": "open", "article_id": "no-such-article"}, "article_id"),
        ({"kind": "helped", "article_id": "agent-goodwill-refunds"}, "article_id"),  # internal: no visitor read it
    ],
)
def test_widget_event_validation_names_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/v1/widget/events", json={"kind": "search", "session": session(), "language": "hr", **body})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


@pytest.mark.slow
def test_deflection_figures_follow_the_events(client: TestClient) -> None:
    before = client.get("/v1/reports/deflection").json()["languages"].get("sl", {})
    helped, contacted = session(), session()
    for body in (
        {"kind": "search", "session": helped, "results": 2},
        {"kind": "open", "session": helped, "article_id": ARTICLE_HR},
        {"kind": "helped", "session": helped, "article_id": ARTICLE_HR},
        {"kind": "search", "session": contacted, "results": 0},
    ):
        assert client.post("/v1/widget/events", json={"language": "sl", **body}).status_code == 201
    assert client.post("/v1/widget/tickets", json={**TICKET, "language": "sl", "session": contacted}).status_code == 201
    after = client.get("/v1/reports/deflection").json()["languages"]["sl"]
    delta = {k: after[k] - before.get(k, 0) for k in ("searches", "article_opens", "helped_yes", "contacts",
                                                      "visits_searched", "contacted_after_search")}
    assert delta == {"searches": 2, "article_opens": 1, "helped_yes": 1, "contacts": 1, "visits_searched": 2,
                     "contacted_after_search": 1}
    assert 0.0 <= after["deflection_rate"] <= 1.0
    assert client.get("/v1/reports/deflection", params={"since": "2026-13-01"}).json()["error"]["field"] == "since"
    assert client.get("/v1/reports/deflection", params={"since": "2999-01-01"}).json()["searches"] == 0


@pytest.mark.slow
def test_widget_calls_answer_only_the_sites_the_key_names(client: TestClient, keys: KeyStore) -> None:
    _, widget = keys.create("shop-widget", ["suggest"], [SHOP])
    _, admin = keys.create("reports", ["admin"])
    event = {"kind": "search", "session": session(), "language": "hr", "results": 1}
    preflight = client.options("/v1/widget/tickets", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key",
    })
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    ok = client.post("/v1/widget/events", json=event, headers={"Origin": SHOP, "X-API-Key": widget})
    assert ok.status_code == 201 and ok.headers["access-control-allow-origin"] == SHOP
    evil = client.post("/v1/widget/tickets", json=TICKET, headers={"Origin": "https://evil.example", "X-API-Key": widget})
    assert evil.status_code == 403 and evil.json()["error"]["field"] == "Origin"
    assert "access-control-allow-origin" not in evil.headers
    assert client.post("/v1/widget/events", json=event, headers={"Origin": SHOP}).status_code == 401
    # The figures are the helpdesk's: a widget key may not read them, an admin key may.
    assert client.get("/v1/reports/deflection", headers={"X-API-Key": widget}).status_code == 403
    assert client.get("/v1/reports/deflection", headers={"X-API-Key": admin}).status_code == 200
    # A page Sift serves itself (/widget) is no cross-site caller: its Origin is the server's own.
    same = client.post("/v1/widget/events", json=event, headers={"Origin": "http://testserver", "X-API-Key": widget})
    assert same.status_code == 201


# ---------------------------------------------------------------- the pages


@pytest.mark.slow
def test_help_centre_works_without_javascript(client: TestClient) -> None:
    page = client.get("/help", params={"q": QUESTION_HR, "lang": "hr"})
    assert page.status_code == 200 and '<html lang="hr">' in page.text
    links = re.findall(r'data-article="([^"]+)"', page.text)
    assert links[0] == ARTICLE_HR
    assert catalog.strings("hr")["found"].replace("{n}", str(len(links))) in page.text
    risky = client.get("/help", params={"q": RISKY, "lang": "en"}).text
    assert 'data-sift="person"' in risky and "data-article" not in risky
    article = client.get(f"/help/articles/{ARTICLE_HR}", params={"lang": "hr", "sid": "visit-1234"})
    assert article.status_code == 200 and "<h1>Ne mogu se prijaviti" in article.text and "<ol>" in article.text
    assert client.get("/help/articles/no-such-article", params={"lang": "hr"}).status_code == 404
    helped = client.post(f"/help/articles/{ARTICLE_HR}/helped", data={"helped": "yes", "lang": "hr", "sid": "visit-1234"},
                         follow_redirects=False)
    assert helped.status_code == 303 and "helped=yes" in helped.headers["location"]
    assert catalog.strings("hr")["thanks"] in client.get(helped.headers["location"]).text
    bad = client.post(f"/help/articles/{ARTICLE_HR}/helped", data={"helped": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "helped"
    elsewhere = client.post("/help/contact", data={"email": "a@example.com", "message": "hi", "lang": "en"},
                            headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403


@pytest.mark.slow
def test_help_centre_contact_form(client: TestClient) -> None:
    invalid = client.post("/help/contact", data={"email": "nope", "message": " ", "lang": "hr"})
    assert invalid.status_code == 422
    assert 'aria-invalid="true" aria-describedby="email-err"' in invalid.text
    assert catalog.strings("hr")["bad_message"] in invalid.text
    sent = client.post("/help/contact", data={"email": "ana@example.com", "message": QUESTION_HR, "lang": "hr"})
    assert sent.status_code == 201 and 'data-sift="ack"' in sent.text and "Dobar dan," in sent.text


@pytest.mark.slow
def test_widget_script_and_preview_page(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in script.text
    assert not re.search(r"https?://(?!sift\.example)", script.text), "the widget must fetch nothing from elsewhere"
    preview = client.get("/widget", params={"lang": "de"})
    assert preview.status_code == 200 and '<html lang="en">' in preview.text  # its own text is for admins
    assert '<script src="/widget.js" data-sift-key="" data-language="de" defer>' in preview.text
