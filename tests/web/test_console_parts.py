"""The console's parts without a server: session cookies and the same-origin check, the edit distance, and
what the pages show of a ticket (per-message sentiment, when the gist is needed, queue links)."""

from __future__ import annotations

import random
import stat
from pathlib import Path

import pytest
from starlette.requests import Request

from engine.api.session import SECRET_FILE, SessionSigner, same_origin
from engine.edit_distance import levenshtein, normalised_distance
from engine.web.agent import agent_languages, parse_languages
from engine.web.views import QueueQuery, conversation, feedback_summary, needs_gist


def _request(headers: dict[str, str], cookies: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "sift.local:8000", **headers}.items()]
    if cookies:
        raw.append((b"cookie", cookies.encode()))
    return Request({"type": "http", "method": "POST", "path": "/console", "headers": raw, "query_string": b""})


def test_a_session_cookie_names_its_key_until_it_expires(tmp_path: Path) -> None:
    signer = SessionSigner(tmp_path, lifetime_s=60)
    value = signer.issue("ab" * 32, now=1000.0)
    assert signer.read(value, now=1059.0) == "ab" * 32
    assert signer.read(value, now=1060.0) is None  # expired
    key_hash, expires, signature = value.split(".")
    assert signer.read(f"{'cd' * 32}.{expires}.{signature}", now=1000.0) is None  # another key: signature fails
    assert signer.read(f"{key_hash}.{int(expires) + 3600}.{signature}", now=1000.0) is None  # extended: fails
    for junk in (None, "", "a.b", "a.b.c.d", value + "x"):
        assert signer.read(junk, now=1000.0) is None
    secret = tmp_path / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32
    assert SessionSigner(tmp_path).read(value, now=1000.0) == "ab" * 32  # another worker, the same secret
    secret.unlink()
    assert SessionSigner(tmp_path).read(value, now=1000.0) is None  # a new secret ends every session


def test_csrf_tokens_are_bound_to_the_session(tmp_path: Path) -> None:
    signer = SessionSigner(tmp_path)
    token = signer.csrf_token("cookie-1")
    assert signer.csrf_ok("cookie-1", token)
    assert not signer.csrf_ok("cookie-2", token) and not signer.csrf_ok("cookie-1", None)
    assert signer.csrf_ok(None, signer.csrf_token(None))  # open mode has a token too


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [
        ({"origin": "http://sift.local:8000"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://sift.local:8001"}, False),
        ({"origin": "null"}, False),
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "cross-site"}, False),
        ({}, None),
    ],
)
def test_same_origin_reads_what_the_browser_says(headers: dict[str, str], verdict: bool | None) -> None:
    assert same_origin(_request(headers)) is verdict


def test_levenshtein_agrees_with_the_textbook_table() -> None:
    def table(a: str, b: str) -> int:
        previous = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            current = [i]
            for j, cb in enumerate(b, 1):
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
            previous = current
        return previous[-1]

    rng = random.Random(7)
    for _ in range(500):
        a = "".join(rng.choice("abcž ") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("abcž ") for _ in range(rng.randint(0, 40)))
        assert levenshtein(a, b) == table(a, b), (a, b)
    assert levenshtein("kitten", "sitting") == 3
    assert normalised_distance("same", "same") == 0.0 and normalised_distance("", "") == 0.0
    assert normalised_distance("abc", "") == 1.0
    long_draft = "Dear customer, " + "the answer is in the article. " * 400
    assert 0 < normalised_distance(long_draft, long_draft.replace("answer", "reply", 3)) < 0.01


def test_each_customer_message_gets_its_sentiment() -> None:
    payload = {
        "text": "Still broken!",
        "messages": [
            {"text": "It shows an error.", "author": "customer"},
            {"text": "Please restart it.", "author": "agent"},
            {"text": "  ", "author": "customer"},  # blank: not scored
            {"text": "Restarted, no change.", "author": "customer"},
        ],
    }
    shown = conversation(payload, {"sentiment": {"label": "negative", "score": -0.7, "history": [0.0, -0.3, -0.7]}})
    assert [(m["author"], m.get("sentiment")) for m in shown] == [
        ("customer", "neutral"), ("agent", None), ("customer", None), ("customer", "negative"), ("customer", "negative")
    ]
    assert shown[-1]["latest"] and shown[-1]["text"] == "Still broken!"
    # A history that does not line up with the messages: only the ticket's own sentiment is shown.
    shown = conversation(payload, {"sentiment": {"label": "positive", "score": 0.6, "history": [0.6]}})
    assert [m.get("sentiment") for m in shown] == [None, None, None, None, "positive"]


def test_the_gist_is_for_languages_the_agent_does_not_read() -> None:
    assert needs_gist({"language": {"code": "hr"}}, ["en", "de"])
    assert not needs_gist({"language": {"code": "de-AT"}}, ["en", "de"])
    assert not needs_gist({"language": {"code": "und"}}, ["en"]) and not needs_gist(None, ["en"])
    assert parse_languages("en, de-AT  hr,EN, x1") == ["en", "de", "hr"]
    assert agent_languages(_request({"accept-language": "hr-HR,hr;q=0.9,en-US;q=0.8"})) == ["hr", "en"]
    assert agent_languages(_request({"accept-language": "fr"}, "sift_console_languages=de.en")) == ["de", "en"]
    assert agent_languages(_request({})) == ["en"]


def test_queue_links_keep_the_filters() -> None:
    query = QueueQuery.parse({"language": "de", "handoff": "maybe", "sort": "-urgency", "offset": "50", "x": "1"})
    assert query.filters == {"language": "de"} and query.sort == "-urgency" and query.offset == 50
    assert query.url(offset=None) == "/console?language=de&sort=-urgency"
    assert query.sort_link("urgency") == ("/console?language=de&sort=urgency", "descending")
    assert query.sort_link("queue") == ("/console?language=de&sort=queue", None)
    assert QueueQuery.parse({"sort": "payload"}).sort == "-received_at"
    assert QueueQuery.parse({"handoff": "yes"}).where().handoff is True


def test_feedback_rows_read_as_sentences() -> None:
    assert feedback_summary({"topic": "billing", "urgency": "high"}) == "topic corrected to billing; urgency corrected to high"
    assert feedback_summary({"draft_action": "sent", "draft_edit_distance": 0.0}) == "draft sent (unedited)"
    assert feedback_summary({"draft_action": "sent", "draft_edit_distance": 0.125}) == "draft sent (edit distance 0.12)"
    assert feedback_summary({"article_id": "a1", "article_helped": False}) == "article a1 did not help"
