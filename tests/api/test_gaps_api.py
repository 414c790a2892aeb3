"""GET /v1/reports/gaps through TestClient: the report over the service's own ticket log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

ASKED = [
    "Can I buy a Lumio gift card for my friend?",
    "Do you sell gift cards for Lumio?",
    "Kann ich einen Lumio-Geschenkgutschein kaufen?",
]


def test_the_gap_report_groups_the_logged_unanswered_tickets(client: TestClient) -> None:
    for text in ASKED:
        assert client.post("/v1/triage", json={"text": text}).status_code == 200
    r = client.get("/v1/reports/gaps", params={"min_tickets": 2})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["tickets_read"] >= len(ASKED) and "hygiene" in report and "followups" in report
    for gap in report["gaps"]:
        assert gap["score"] > 0 and gap["outline"] and gap["trend"]["weeks"] and "centroid" not in gap
        assert gap["nearest_article"] is not None and 0 < gap["nearest_similarity"] <= 1
    assert report["hygiene"]["contradiction_note"].startswith("A heuristic")


def test_a_bad_date_is_refused(client: TestClient) -> None:
    assert client.get("/v1/reports/gaps", params={"since": "2026-13-45"}).status_code in (400, 422)
    assert client.get("/v1/reports/gaps", params={"since": "last week"}).status_code == 422
