"""The ticket's ``locale`` must be a BCP 47 language tag: anything else is a 422 naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from engine.types import Ticket

TICKET = TypeAdapter(Ticket)  # how the API validates a request body

VALID = ["en-GB", "hr", "pt-BR", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "es-419"]
INVALID = ["../../", "en_GB", "e", "en-", "english language", "<script>", "hr-HR/../x"]


@pytest.mark.parametrize("locale", VALID)
def test_schema_accepts_language_tags(locale: str) -> None:
    assert TICKET.validate_python({"text": "Hello", "locale": locale}).locale == locale


@pytest.mark.parametrize("locale", INVALID)
def test_schema_rejects_anything_else(locale: str) -> None:
    with pytest.raises(ValidationError, match="BCP 47"):
        TICKET.validate_python({"text": "Hello", "locale": locale})


@pytest.mark.slow
def test_a_path_as_locale_is_a_422_naming_locale(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": "Where is my order? It has not arrived yet.", "locale": "../../"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "locale"
    assert "BCP 47" in error["message"]


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en-GB", "hr", "pt-BR", "zh-Hant-TW"])
def test_language_tags_are_accepted(client: TestClient, locale: str) -> None:
    r = client.post("/v1/triage", json={"text": "Where is my order? It has not arrived yet.", "locale": locale})
    assert r.status_code == 200, r.text
