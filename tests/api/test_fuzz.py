"""A bounded run of bench/fuzz.py in process: schema-drawn requests with nasty strings never get a 5xx."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings

from bench.fuzz import LONG, encode, fuzz, huge_values, lone_surrogates, nasty_strings

pytestmark = pytest.mark.slow


@settings(max_examples=30, deadline=None)
@given(value=nasty_strings())
def test_nasty_strings_survive_the_encoding(value: str) -> None:
    request = encode("POST", "/v1/x/{id}", {"id": value}, {"q": [value, "plain"]}, {"text": value}, True)
    assert json.loads(request["content"]) == {"text": value}  # a lone surrogate as its \\ud800 escape
    assert request["url"].isascii() and request["url"].count("q=") == 2


@settings(max_examples=10, deadline=None)
@given(surrogate=lone_surrogates(), huge=huge_values())
def test_the_strategies_make_what_they_promise(surrogate: str, huge: str) -> None:
    assert any(0xD800 <= ord(c) <= 0xDFFF for c in surrogate)
    assert len(huge) == LONG


def test_two_hundred_fuzzed_requests_get_no_server_error(client: TestClient) -> None:
    report = fuzz(client, requests=200, run_seed=7, max_per_round=20)
    assert report.sent >= 200 and report.nasty > 0
    assert report.server_errors == [], report.server_errors[:3]
    paths = client.get("/openapi.json").json()["paths"]
    assert set(report.by_operation) == {f"{m.upper()} {p}" for p, methods in paths.items() for m in methods}
    assert all(status < 500 for status in report.statuses)
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
