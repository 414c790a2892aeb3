"""First-run set-up as a helpdesk meets it: its own Markdown KB, as it is, indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bootstrap import PARITY_TICKETS, index_kb, index_needed, parity_texts
from engine.errors import InvalidInput
from engine.models.registry import ModelRegistry
from engine.retrieve import Retriever
from engine.retrieve.index import CURRENT, PASSAGE_FORMAT
from engine.settings import REPO_ROOT, KnowledgeBase, Settings


@pytest.mark.slow
def test_plain_markdown_without_front_matter_indexes(registry: ModelRegistry, tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "reset-password.md").write_text(
        "# How do I reset my password?\n\nOpen the app, tap Sign in, then Forgot password, and follow the e-mail.\n",
        encoding="utf-8",
    )
    (kb_dir / "lieferzeit.md").write_text(
        "# Wann kommt meine Bestellung an?\n\nPakete werden innerhalb von drei Werktagen zugestellt. "
        "Die Sendungsnummer steht in der Versandbestätigung.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase("plain", kb_dir, tmp_path / "index", "https://help.example/{id}#{anchor}", "Support")
    index_kb(registry, kb)
    retriever = Retriever.from_settings(registry, kb.index_dir)
    languages = {a.id: a.language for a in retriever.index.articles.values()}
    assert languages == {"reset-password": "en", "lieferzeit": "de"}
    query = "Wo ist mein Paket?"
    [hits] = retriever.run(registry.encoder.encode_queries([query]), ["de"], 2, texts=[query])
    assert hits[0].id == "lieferzeit" and hits[0].title == "Wann kommt meine Bestellung an?"


@pytest.mark.slow
def test_an_article_whose_language_cannot_be_told_stops_the_build(registry: ModelRegistry, tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "codes.md").write_text("# 404\n\n500 503\n", encoding="utf-8")
    kb = KnowledgeBase("codes", kb_dir, tmp_path / "index", "{id}", "Support")
    with pytest.raises(InvalidInput, match="codes.md.*language"):
        index_kb(registry, kb)


def test_tickets_added_to_the_demo_file_leave_the_encoders_calibration_alone(tmp_path: Path) -> None:
    # The parity texts also calibrate the int8 graph: a sample that moved with the file's length gave fresh installs
    # a different encoder under the same id (a Spanish double-charge question lost its article to a near tie).
    lines = (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text(encoding="utf-8").splitlines()
    short, longer = tmp_path / "short.jsonl", tmp_path / "longer.jsonl"
    short.write_text("\n".join(lines[: PARITY_TICKETS + 50]) + "\n", encoding="utf-8")
    longer.write_text("\n".join(lines[: PARITY_TICKETS + 50] + lines[:PARITY_TICKETS]) + "\n", encoding="utf-8")
    before, passages = parity_texts(Settings(default_training_data=short))
    after, _ = parity_texts(Settings(default_training_data=longer))
    assert after == before and len(before) == PARITY_TICKETS and passages


@pytest.mark.slow
def test_an_index_an_earlier_release_built_is_built_again_before_serving(registry: ModelRegistry, tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "track.md").write_text(
        "---\nid: track\ntitle: Where is my order?\nlanguage: en\ntags: [order status]\n---\n\n"
        "## Track your parcel\n\nSee Account > Orders for where your parcel is.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase("tiny", kb_dir, tmp_path / "index", "{id}", "Support")
    assert "no index" in str(index_needed(registry, kb))
    index_kb(registry, kb)
    assert index_needed(registry, kb) is None
    meta_file = kb.index_dir / (kb.index_dir / CURRENT).read_text().strip() / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert meta["passage_format"] == PASSAGE_FORMAT
    del meta["passage_format"]  # as the release before tags were encoded wrote it
    meta_file.write_text(json.dumps(meta))
    assert f"format 1, not {PASSAGE_FORMAT}" in str(index_needed(registry, kb))
