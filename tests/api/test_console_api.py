"""The agent console through TestClient: login and its cookie, CSRF, a revoked key, GET /v1/tickets and
feedback given from the console's forms, on real triaged tickets (the shipped models).

The tests with keys come last: once one existed, the app's key cache keeps the API closed for a few seconds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from engine.api.session import COOKIE
from engine.store.keys import KeyStore

pytestmark = pytest.mark.slow

SAME_ORIGIN = {"Origin": "http://testserver"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TICKETS = [
    {"text": "I was charged twice for my Lumio Plus renewal, please refund one.", "subject": "Double charge"},
    {"text": "Mein Lumio Hub verbindet sich nicht mehr mit dem WLAN. Was kann ich tun?", "channel": "email"},
    {
        "text": "This is the third time I write. The thermostat is still broken and nobody answers!",
        "messages": [{"text": "My thermostat shows an error.", "author": "customer"},
                     {"text": "Please restart it.", "author": "agent"}],
    },
]


@pytest.fixture(scope="module")
def triaged(client: TestClient) -> list[dict[str, Any]]:
    r = client.post("/v1/triage/batch", json={"tickets": TICKETS})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _login(client: TestClient, secret: str) -> None:
    r = client.post("/console/login", data={"key": secret, "next": "/console"}, headers=SAME_ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_without_keys_the_console_opens_and_says_so(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    r = client.get("/console")
    assert r.status_code == 200
    assert "Open console" in r.text and "sift keys create" in r.text
    assert triaged[0]["id"] in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/console/login", follow_redirects=False).status_code == 303  # nothing to log in to


def test_tickets_filter_sort_and_page(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    r = client.get("/v1/tickets", params={"limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] >= 3 and len(body["items"]) == 2 and body["next_offset"] == 2
    assert body["items"][0]["received_at"] >= body["items"][1]["received_at"]  # newest first
    second = client.get("/v1/tickets", params={"limit": 2, "offset": 2}).json()
    assert {i["id"] for i in second["items"]}.isdisjoint({i["id"] for i in body["items"]})

    german = client.get("/v1/tickets", params={"language": "de", "limit": 500}).json()["items"]
    assert triaged[1]["id"] in {i["id"] for i in german} and all(i["language"] == "de" for i in german)
    item = next(i for i in german if i["id"] == triaged[1]["id"])
    assert item["result"]["id"] == triaged[1]["id"] and item["payload"]["text"].startswith("Mein Lumio Hub")
    assert item["topic"] == triaged[1]["topic"]["label"] and item["queue"] == triaged[1]["route"]["queue"]

    for name, value, check in (
        ("handoff", "true", lambda i: i["handoff"] is True),
        ("handoff", "false", lambda i: i["handoff"] is False),
        ("risk", "none", lambda i: i["risks"] == []),
        ("risk", "any", lambda i: i["risks"] != []),
        ("status", "processed", lambda i: i["status"] == "processed"),
        ("queue", triaged[0]["route"]["queue"], lambda i: i["queue"] == triaged[0]["route"]["queue"]),
    ):
        items = client.get("/v1/tickets", params={name: value, "limit": 500}).json()["items"]
        assert all(check(i) for i in items), (name, value)
    if triaged[0]["urgency"]:
        level = triaged[0]["urgency"]["label"]
        items = client.get("/v1/tickets", params={"urgency": level, "limit": 500}).json()["items"]
        assert triaged[0]["id"] in {i["id"] for i in items} and all(i["urgency"] == level for i in items)

    ranks = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    down = [ranks[i["urgency"]] for i in client.get("/v1/tickets", params={"sort": "-urgency", "limit": 500}).json()["items"] if i["urgency"]]
    assert down == sorted(down, reverse=True)
    up = [i["language"] for i in client.get("/v1/tickets", params={"sort": "language", "limit": 500}).json()["items"] if i["language"]]
    assert up == sorted(up)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "colour"}, "sort"),
        ({"urgency": "critical"}, "urgency"),
        ({"risk": "dragons"}, "risk"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"handoff": "maybe"}, "handoff"),
        ({"language": "en'--"}, "language"),
    ],
)
def test_bad_ticket_filters_name_the_field(client: TestClient, params: dict[str, Any], field: str) -> None:
    r = client.get("/v1/tickets", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_one_ticket_with_its_feedback(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    r = client.get(f"/v1/tickets/{triaged[2]['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"]["sentiment"]["history"] and isinstance(body["feedback"], list)
    assert client.get("/v1/tickets/" + "0" * 32).status_code == 404
    page = client.get(f"/console/tickets/{triaged[2]['id']}")
    assert page.status_code == 200
    assert "My thermostat shows an error." in page.text and "sentiment" in page.text
    assert client.get("/console/tickets/nope-x").status_code == 404


def test_the_agents_languages_decide_when_the_gist_shows(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    german = triaged[1]
    assert german["language"]["code"] == "de"
    token = _csrf(client.get("/console").text)

    def prefer(languages: str) -> Any:
        return client.post("/console/preferences", data={"csrf": token, "languages": languages, "next": "/console"},
                           headers=SAME_ORIGIN, follow_redirects=False)

    r = prefer("en")
    assert r.status_code == 303 and "sift_console_languages=en" in r.headers["set-cookie"]
    assert 'class="gist"' in client.get(f"/console/tickets/{german['id']}").text  # original beside the gist
    assert prefer("en, de-AT").status_code == 303
    assert 'class="gist"' not in client.get(f"/console/tickets/{german['id']}").text
    bad = prefer("!!")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "languages"
    client.cookies.clear()


def test_draft_edits_through_the_api(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    ticket = triaged[1]
    body = {"ticket_id": ticket["id"], "agent_id": "api", "draft_action": "sent", "sent_text": ticket["draft"]["text"]}
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    row = client.get("/v1/feedback", params={"ticket_id": ticket["id"]}).json()["items"][0]
    assert (row["draft_action"], row["draft_edit_distance"]) == ("sent", 0.0)
    for extra, field in (
        ({"draft_action": "discarded"}, "sent_text"),
        ({"draft_edit_distance": 0.5}, "draft_edit_distance"),
        ({"draft_action": "kept"}, "draft_action"),
    ):
        r = client.post("/v1/feedback", json={**body, **extra})
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_published_reports_are_served_read_only(client: TestClient, triaged: list[dict[str, Any]]) -> None:
    folder = client.app.state.service.settings.reports_dir  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval-20261206T080000Z.html").write_text("<!doctype html><title>eval</title><p>figures</p>")
    (folder.parent / "secret.html").write_text("<p>outside</p>")
    page = client.get("/console/reports")
    assert page.status_code == 200 and "eval-20261206T080000Z.html" in page.text
    served = client.get("/console/reports/files/eval-20261206T080000Z.html")
    assert served.status_code == 200 and "figures" in served.text
    assert "sandbox" in served.headers["content-security-policy"]
    for name in ("..%2Fsecret.html", "../secret.html", ".hidden.html", "sift.db"):
        assert client.get(f"/console/reports/files/{name}").status_code == 404, name


def test_login_cookie_logout_and_a_revoked_key(client: TestClient, keys: KeyStore, triaged: list[dict[str, Any]]) -> None:
    key, secret = keys.create("agent-ana", ["feedback"])
    client.cookies.clear()
    r = client.get("/console?language=de", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=%2Fconsole%3Flanguage%3Dde"
    form = client.get("/console/login")
    assert form.status_code == 200 and 'type="password"' in form.text

    wrong = client.post("/console/login", data={"key": "sift_wrong"}, headers=SAME_ORIGIN)
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
    cross = client.post("/console/login", data={"key": secret}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403

    r = client.post("/console/login", data={"key": secret, "next": "https://evil.example/"}, headers=SAME_ORIGIN,
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console"  # never off the console
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Path=/console" in cookie and secret not in cookie
    page = client.get("/console")
    assert page.status_code == 200 and "agent-ana" in page.text and "Open console" not in page.text
    assert client.get("/v1/tickets").status_code == 401  # the cookie is the console's: the API wants a key

    good = client.cookies.get(COOKIE)
    client.cookies.clear()
    client.cookies.set(COOKIE, good[:-4] + "0000")  # forged: the signature no longer matches
    assert client.get("/console", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, good)
    assert client.get("/console", follow_redirects=False).status_code == 200

    keys.revoke(key.id)
    assert client.get("/console", follow_redirects=False).status_code == 303
    _, again = keys.create("agent-ana-2", ["feedback"])
    _login(client, again)
    assert client.get("/console").status_code == 200
    out = client.post("/console/logout", headers=SAME_ORIGIN, follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_console_feedback_is_stored_under_the_key_name(
    client: TestClient, keys: KeyStore, triaged: list[dict[str, Any]]
) -> None:
    _, secret = keys.create("agent-bo", ["feedback"])
    client.cookies.clear()
    _login(client, secret)
    ticket = triaged[0]
    page = client.get(f"/console/tickets/{ticket['id']}")
    assert page.status_code == 200 and "Draft reply" in page.text
    token = _csrf(page.text)
    url = f"/console/tickets/{ticket['id']}/feedback"
    topic = "account" if ticket["topic"]["label"] != "account" else "billing"

    # Another site's page, and a request naming no origin without the page's token, are refused.
    assert client.post(url, data={"csrf": token, "kind": "topic", "topic": topic},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(url, data={"kind": "topic", "topic": topic}).status_code == 403
    # The page's token alone (a browser that sends no Origin) is enough; so is the same origin.
    r = client.post(url, data={"csrf": token, "kind": "topic", "topic": topic}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=topic")
    r = client.post(url, data={"csrf": token, "kind": "urgency", "urgency": "urgent"},
                    headers={**SAME_ORIGIN, "Accept": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["agent_id"] == "agent-bo"

    article = ticket["articles"][0]["id"]
    r = client.post(url, data={"csrf": token, "kind": "article", "article_id": article, "helped": "no"},
                    headers={**SAME_ORIGIN, "Accept": "application/json"})
    assert r.status_code == 201, r.text
    bad = client.post(url, data={"csrf": token, "kind": "topic", "topic": "no-such-topic"},
                      headers={**SAME_ORIGIN, "Accept": "application/json"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "topic"

    sent = ticket["draft"]["text"].replace(ticket["draft"]["text"][:20], "Hello there, friend! ", 1)
    marker = "PRIVATE-SENTENCE-7731"
    r = client.post(url, data={"csrf": token, "kind": "send", "draft": sent + " " + marker},
                    headers={**SAME_ORIGIN, "Accept": "application/json"})
    assert r.status_code == 201, r.text

    service = client.app.state.service  # type: ignore[attr-defined]
    rows = service.feedback.page(ticket["id"], None, 50, 0).rows
    mine = [row for row in rows if row["agent_id"] == "agent-bo"]
    assert {row["topic"] for row in mine} >= {topic} and {row["urgency"] for row in mine} >= {"urgent"}
    assert any(row["article_id"] == article and row["article_helped"] is False for row in mine)
    distance = next(row["draft_edit_distance"] for row in mine if row["draft_action"] == "sent")
    assert 0 < distance < 0.5
    with service.feedback._db.read() as db:  # noqa: SLF001 - the sent text must be stored nowhere
        dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM feedback")).all() for v in row)
    assert marker not in dump

    history = client.get(f"/console/tickets/{ticket['id']}")
    assert f"topic corrected to {topic}" in history.text and "draft sent (edit distance" in history.text
    reports = client.get("/console/reports")
    assert reports.status_code == 200 and 'id="fig-distance"' in reports.text


def test_a_triage_key_reads_but_gives_no_feedback(
    client: TestClient, keys: KeyStore, triaged: list[dict[str, Any]]
) -> None:
    _, secret = keys.create("zendesk", ["triage"])
    _, widget = keys.create("widget", ["suggest"])
    client.cookies.clear()
    refused = client.post("/console/login", data={"key": widget}, headers=SAME_ORIGIN)
    assert refused.status_code == 403 and "scope" in refused.text
    _login(client, secret)
    page = client.get(f"/console/tickets/{triaged[1]['id']}")
    assert page.status_code == 200 and "Save topic" not in page.text
    r = client.post(f"/console/tickets/{triaged[1]['id']}/feedback", data={"csrf": _csrf(page.text), "kind": "discard"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 403
    assert client.get("/console/reports/gaps").status_code == 403
    client.cookies.clear()


def test_an_admin_sees_the_gap_report(client: TestClient, keys: KeyStore, triaged: list[dict[str, Any]]) -> None:
    _, secret = keys.create("ops", ["admin"])
    client.cookies.clear()
    _login(client, secret)
    assert 'href="/console/reports/gaps"' in client.get("/console/reports").text
    page = client.get("/console/reports/gaps")
    assert page.status_code == 200, page.text
    assert "Missing articles" in page.text and "logged tickets were left unanswered" in page.text
    client.cookies.clear()
