"""The help widget from a customer's browser: only the sites its key names get answers they can read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.store.keys import KeyStore

pytestmark = pytest.mark.slow
SHOP = "https://shop.example"
SUGGEST = "/v1/articles/suggest"
QUERY = {"q": "reset password"}


def test_a_listed_origin_is_answered_with_cors_headers(client: TestClient, keys: KeyStore) -> None:
    _, secret = keys.create("shop-widget", ["suggest"], [SHOP])
    preflight = client.options(
        SUGGEST, headers={"Origin": SHOP, "Access-Control-Request-Method": "GET",
                          "Access-Control-Request-Headers": "x-api-key"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "X-API-Key" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["vary"] == "Origin"

    r = client.get(SUGGEST, params=QUERY, headers={"Origin": SHOP, "X-API-Key": secret})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == SHOP and "Origin" in r.headers["vary"]
    unknown = client.get("/v1/articles/no-such-article", params={"language": "en"},
                         headers={"Origin": SHOP, "X-API-Key": secret})
    assert unknown.status_code == 404 and unknown.headers["access-control-allow-origin"] == SHOP


def test_other_origins_get_403_and_no_cors_headers(client: TestClient, keys: KeyStore) -> None:
    _, widget = keys.create("shop-widget", ["suggest"], [SHOP])
    _, server_side = keys.create("portal", ["suggest"])
    for origin in ("https://evil.example", "http://shop.example", "null"):
        preflight = client.options(SUGGEST, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
        r = client.get(SUGGEST, params=QUERY, headers={"Origin": origin, "X-API-Key": widget})
        assert r.status_code == 403 and "access-control-allow-origin" not in r.headers
        assert r.json()["error"] == {
            "code": "origin_not_allowed", "field": "Origin",
            "message": f"Origin: {origin!r} is not an origin this key may be used from",
        }
    # A key that names no origin is for servers: a browser page may not use it, a server (no Origin) may.
    assert client.get(SUGGEST, params=QUERY, headers={"Origin": SHOP, "X-API-Key": server_side}).status_code == 403
    plain = client.get(SUGGEST, params=QUERY, headers={"X-API-Key": server_side})
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
    assert plain.headers["vary"] == "Origin"
    # No valid key: the same 401 as without an Origin, and nothing a page could read.
    missing = client.get(SUGGEST, params=QUERY, headers={"Origin": SHOP})
    assert missing.status_code == 401 and "access-control-allow-origin" not in missing.headers


def test_without_keys_no_browser_page_is_answered(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.api.auth.REFRESH_SECONDS", 0.0)  # forget the keys the tests before created
    r = client.get(SUGGEST, params=QUERY, headers={"Origin": SHOP})
    assert r.status_code == 403 and r.json()["error"]["field"] == "Origin"
    assert client.get(SUGGEST, params=QUERY).status_code == 200
