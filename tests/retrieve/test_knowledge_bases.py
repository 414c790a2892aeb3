"""Several knowledge bases side by side: each answers only its own requests, from its own index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from engine.api.app import create_app
from engine.bootstrap import index_kb
from engine.cli import app
from engine.errors import InvalidInput
from engine.kb import load_kb
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.settings import KnowledgeBaseSettings, Settings
from engine.types import Ticket
from tests.conftest import ready_client

ACME_ARTICLES = {
    "acme-skates-returns": (
        "Return rocket skates",
        "## Send skates back\n\nRocket skates can be returned within 60 days. Print the prepaid label from "
        "your Acme account, pack the skates in their box and drop them at any post office. The refund reaches "
        "your card five days after the skates arrive at our depot.",
    ),
    "acme-anvil-delivery": (
        "Anvil delivery times",
        "## When your anvil arrives\n\nAnvils ship by freight within three working days. The driver calls "
        "an hour before delivery; someone must be home to sign, because an anvil cannot be left at the door.",
    ),
}


def write_acme_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for article_id, (title, body) in ACME_ARTICLES.items():
        front = (
            f"---\nid: {article_id}\ntitle: {title}\nlanguage: en\nproduct: acme\ntags: [acme]\n"
            "updated: 2026-11-30\naudience: public\n---\n\n"
        )
        (folder / f"{article_id}.md").write_text(front + body + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def two_kbs(settings: Settings, ready_registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's data dir with the shipped KB as 'default' and a second brand's KB, 'acme', both indexed."""
    acme = KnowledgeBaseSettings(
        dir=write_acme_kb(tmp_path_factory.mktemp("acme-kb")),
        article_url_template="https://support.acme.example/{id}#{anchor}",
        agent_name="Acme Customer Care",
    )
    both = settings.model_copy(update={"knowledge_bases": {"acme": acme}})
    index_kb(ready_registry, both.kbs()["acme"])
    return both


@pytest.fixture(scope="module")
def pipeline_two(two_kbs: Settings, ready_registry: ModelRegistry) -> Pipeline:
    return Pipeline(two_kbs, ready_registry)


def test_settings_list_the_default_kb_first_with_its_own_index(settings: Settings, tmp_path: Path) -> None:
    assert list(settings.kbs()) == ["default"]
    assert settings.kbs()["default"].index_dir == settings.index_dir
    more = Settings(data_dir=tmp_path, knowledge_bases={"acme": {"dir": tmp_path / "acme"}})
    kbs = more.kbs()
    assert list(kbs) == ["default", "acme"]
    assert kbs["acme"].index_dir == tmp_path / "kb-index" / "acme"
    assert kbs["acme"].agent_name == more.agent_name  # not configured: the global signature
    only = Settings(data_dir=tmp_path, knowledge_bases={"acme": {"dir": tmp_path}}, default_kb="acme")
    assert list(only.kbs()) == ["acme"]  # the shipped demo KB is not served beside a chosen default


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"knowledge_bases": {"Acme Inc": {"dir": "x"}}}, "lower-case"),
        ({"default_kb": "acme"}, "not one of the knowledge_bases"),
        ({"knowledge_bases": {"acme": {"directory": "x"}}}, "dir"),
    ],
)
def test_bad_knowledge_base_settings_are_refused(options: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(data_dir=tmp_path, **options)


@pytest.mark.slow
def test_each_ticket_is_answered_from_its_own_kb_in_one_pass(pipeline_two: Pipeline) -> None:
    acme_ids = set(ACME_ARTICLES)
    shipped_ids = {a.id for a in load_kb(pipeline_two.settings.kb_dir)}
    tickets = [
        Ticket(text="How do I send my rocket skates back for a refund?", customer_name="Wile", kb="acme"),
        Ticket(text="I forgot my password and cannot log in"),
        Ticket(text="When will my anvil be delivered? Do I need to be home?", kb="acme"),
    ]
    skates, password, anvil = pipeline_two.run(tickets, ["a", "b", "c"])
    assert [r.kb for r in (skates, password, anvil)] == ["acme", "default", "acme"]
    assert skates.articles[0].id == "acme-skates-returns"
    assert anvil.articles[0].id == "acme-anvil-delivery"
    for result in (skates, anvil):
        assert {a.id for a in result.articles} <= acme_ids
    assert password.articles and {a.id for a in password.articles} <= shipped_ids
    assert skates.draft is not None and skates.draft.text.rstrip().endswith("Acme Customer Care")
    assert skates.draft.citations and "https://support.acme.example/acme-skates-returns#" in skates.draft.text
    assert password.draft is not None and pipeline_two.settings.agent_name in password.draft.text


def test_unknown_kb_is_refused_naming_the_field(pipeline_two: Pipeline) -> None:
    with pytest.raises(InvalidInput) as caught:
        pipeline_two.knowledge_bases.resolve("globex", "tickets.2.kb")
    assert caught.value.field == "tickets.2.kb" and "acme" in caught.value.message


@pytest.fixture(scope="module")
def client(two_kbs: Settings, ready_registry: ModelRegistry) -> Iterator[TestClient]:
    with TestClient(create_app(two_kbs)) as c:
        yield ready_client(c)


@pytest.mark.slow
def test_api_suggests_triages_and_reloads_per_kb(client: TestClient) -> None:
    r = client.get("/v1/articles/suggest", params={"q": "return rocket skates", "kb": "acme"})
    assert r.status_code == 200, r.text
    assert r.json()["kb"] == "acme" and r.json()["articles"][0]["id"] == "acme-skates-returns"
    shipped = client.get("/v1/articles/suggest", params={"q": "return rocket skates"}).json()
    assert shipped["kb"] == "default" and not {a["id"] for a in shipped["articles"]} & set(ACME_ARTICLES)

    r = client.post("/v1/triage/batch", json={"tickets": [{"text": "anvil delivery", "kb": "acme"}, {"text": "hi"}]})
    assert r.status_code == 200, r.text
    assert [x["kb"] for x in r.json()["results"]] == ["acme", "default"]

    ready = client.get("/readyz").json()
    assert set(ready["indexes"]) == {"default", "acme"} and ready["index"] == ready["indexes"]["default"]
    reloaded = client.post("/v1/admin/reload").json()
    assert set(reloaded["indexes"]) == {"default", "acme"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (("get", "/v1/articles/suggest", {"params": {"q": "skates", "kb": "globex"}}), "kb"),
        (("post", "/v1/triage", {"json": {"text": "skates", "kb": "globex"}}), "kb"),
        (("post", "/v1/triage/batch", {"json": {"tickets": [{"text": "a"}, {"text": "b", "kb": "x"}]}}), "tickets.1.kb"),
    ],
)
def test_api_refuses_an_unknown_kb_before_storing(
    client: TestClient, request_: tuple[str, str, dict[str, object]], field: str
) -> None:
    method, path, kwargs = request_
    r = client.request(method.upper(), path, **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


runner = CliRunner()


def test_cli_index_names_kbs_and_refuses_ambiguity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_KNOWLEDGE_BASES", json.dumps({"acme": {"dir": str(tmp_path / "acme")}}))
    result = runner.invoke(app, ["index", "--knowledge-base", "globex"])
    assert result.exit_code == 2 and "unknown knowledge base 'globex'" in result.output
    result = runner.invoke(app, ["index", "--kb", str(tmp_path)])
    assert result.exit_code == 2 and "--knowledge-base" in result.output
    result = runner.invoke(app, ["triage", "hello there", "--knowledge-base", "globex"])
    assert result.exit_code == 2 and "globex" in result.output


@pytest.mark.slow
def test_cli_index_builds_one_named_kb(
    ready_registry: ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = write_acme_kb(tmp_path / "acme")
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIFT_KNOWLEDGE_BASES", json.dumps({"acme": {"dir": str(acme)}}))
    result = runner.invoke(app, ["index", "--knowledge-base", "acme"])
    assert result.exit_code == 0, result.output
    assert "articles: 2 (2 added" in result.output
    assert (tmp_path / "data" / "kb-index" / "acme" / "CURRENT").is_file()
    assert not (tmp_path / "data" / "index").exists()  # the default KB was not asked for


def test_cli_imports_into_a_named_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = tmp_path / "acme"
    monkeypatch.setenv("SIFT_KNOWLEDGE_BASES", json.dumps({"acme": {"dir": str(acme)}}))
    faq = tmp_path / "faq.csv"
    faq.write_text("question,answer\nCan I return skates?,Yes: within 60 days with the prepaid label.\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "import", str(faq), "--format", "faq-csv", "--knowledge-base", "acme"])
    assert result.exit_code == 0, result.output
    assert [a.title for a in load_kb(acme)] == ["Can I return skates?"]
    assert "sift index --knowledge-base acme" in result.output
    both = runner.invoke(
        app, ["kb", "import", str(faq), "--format", "faq-csv", "--knowledge-base", "acme", "--out", str(tmp_path)]
    )
    assert both.exit_code == 2 and "not both" in both.output
