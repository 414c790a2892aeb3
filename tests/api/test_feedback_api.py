"""POST /v1/feedback through TestClient (lifespan runs): stored against a real triage, refusals name the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def triaged(client: TestClient) -> dict[str, Any]:
    r = client.post("/v1/triage", json={"text": "I was charged twice for my Lumio Plus renewal, please refund one."})
    assert r.status_code == 200, r.text
    return r.json()


def test_feedback_for_a_triaged_ticket_is_stored(client: TestClient, triaged: dict[str, Any]) -> None:
    article = triaged["articles"][0]["id"]
    r = client.post(
        "/v1/feedback",
        json={
            "ticket_id": triaged["id"],
            "agent_id": "agent-17",
            "topic": "billing",
            "urgency": "high",
            "handoff": True,
            "article_id": article,
            "article_helped": False,
            "draft_helped": True,
            "comment": "refund needs a person",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ticket_id"] == triaged["id"] and body["created_at"]
    stored = client.app.state.service.feedback.get(body["id"])  # type: ignore[attr-defined]
    assert stored is not None
    assert (stored.feedback.topic, stored.feedback.urgency, stored.feedback.handoff) == ("billing", "high", True)
    assert (stored.feedback.article_id, stored.feedback.article_helped) == (article, False)
    assert stored.text.startswith("I was charged twice")
    assert stored.predicted["topic"] == triaged["topic"]["label"]


def test_a_rating_alone_is_feedback(client: TestClient, triaged: dict[str, Any]) -> None:
    r = client.post("/v1/feedback", json={"ticket_id": triaged["id"], "agent_id": "agent-3", "draft_helped": False})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ticket_id": "0" * 32}, "ticket_id"),
        ({"colour": "red"}, "colour"),
        ({"urgency": "critical"}, "urgency"),
        ({"topic": None, "comment": "just a note"}, "body"),
        ({"agent_id": None}, "agent_id"),
        ({"article_id": "not-a-suggested-article", "article_helped": True}, "article_id"),
        ({"article_helped": True}, "article_id"),
        ({"topic": "   "}, "topic"),
    ],
)
def test_refused_feedback_names_the_field(
    client: TestClient, triaged: dict[str, Any], extra: dict[str, Any], field: str
) -> None:
    before = client.app.state.service.feedback.count()  # type: ignore[attr-defined]
    payload = {"ticket_id": triaged["id"], "agent_id": "agent-17", "topic": "billing", **extra}
    r = client.post("/v1/feedback", json={k: v for k, v in payload.items() if v is not None})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert client.app.state.service.feedback.count() == before  # type: ignore[attr-defined]


def test_feedback_is_in_the_openapi_document(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/feedback"]["post"]
    assert "201" in operation["responses"] and "422" in operation["responses"]


def test_a_topic_the_head_does_not_know_is_refused(client: TestClient, triaged: dict[str, Any]) -> None:
    # A typo stored today would be a class of one example in the next `sift train --include-feedback`.
    r = client.post("/v1/feedback", json={"ticket_id": triaged["id"], "agent_id": "a-1", "topic": "biling"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "topic"
    assert "unknown topic 'biling'" in r.json()["error"]["message"] and "billing" in r.json()["error"]["message"]
    marker = client.post("/v1/feedback", json={"ticket_id": triaged["id"], "agent_id": "a-1", "topic": "out_of_scope"})
    assert marker.status_code == 201, marker.text


def test_feedback_is_listed_paged_and_filtered(client: TestClient, triaged: dict[str, Any]) -> None:
    given = [
        client.post("/v1/feedback", json={"ticket_id": triaged["id"], "agent_id": f"a-{n}", "urgency": "low"}).json()
        for n in range(3)
    ]
    first = client.get("/v1/feedback", params={"ticket_id": triaged["id"], "limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert [row["id"] for row in body["items"]] == [given[2]["id"], given[1]["id"]]
    assert body["next_offset"] == 2 and body["total"] >= 3
    assert body["items"][0]["agent_id"] == "a-2" and body["items"][0]["urgency"] == "low"
    rest = client.get("/v1/feedback", params={"ticket_id": triaged["id"], "limit": 500, "offset": 2}).json()
    assert given[0]["id"] in [row["id"] for row in rest["items"]] and rest["next_offset"] is None
    since = client.get("/v1/feedback", params={"since": given[1]["created_at"], "ticket_id": triaged["id"]}).json()
    assert {row["id"] for row in since["items"]} >= {given[1]["id"], given[2]["id"]}
    assert given[0]["id"] not in {row["id"] for row in since["items"]} or given[0]["created_at"] == given[1]["created_at"]
    assert client.get("/v1/feedback", params={"ticket_id": "0" * 32}).json() == {
        "items": [], "total": 0, "next_offset": None
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset"), ({"since": "yesterday"}, "since"),
     ({"since": "0001-01-01T00:00:00+01:00"}, "since"), ({"ticket_id": "x" * 65}, "ticket_id"),
     ({"ticket_id": "ab\x00cd"}, "ticket_id")],
)
def test_a_bad_listing_names_the_parameter(client: TestClient, params: dict[str, Any], field: str) -> None:
    r = client.get("/v1/feedback", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_feedback_is_deleted_once(client: TestClient, triaged: dict[str, Any]) -> None:
    given = client.post("/v1/feedback", json={"ticket_id": triaged["id"], "agent_id": "a-9", "draft_helped": True})
    feedback_id = given.json()["id"]
    r = client.delete(f"/v1/feedback/{feedback_id}")
    assert r.status_code == 204 and r.content == b""
    assert client.app.state.service.feedback.get(feedback_id) is None  # type: ignore[attr-defined]
    again = client.delete(f"/v1/feedback/{feedback_id}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    nul = client.delete("/v1/feedback/ab%00cd")
    assert nul.status_code == 422 and nul.json()["error"]["field"] == "feedback_id"
