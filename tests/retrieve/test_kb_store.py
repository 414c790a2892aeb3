"""The mapped KB index (issue #20): the same answers as the in-heap index it replaced, nothing per section in the
heap, builds that readers never see half-written, and builds from before the store converted on load."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.legacy_index import LegacyKBIndex, LegacyRetriever
from engine.kb import load_kb
from engine.kb.articles import chunk_article
from engine.models.registry import ModelRegistry
from engine.retrieve import KBIndex, Retriever
from engine.retrieve.index import CURRENT
from engine.retrieve.kb_store import STORE_FILE
from engine.retrieve.retriever import SearchFilter
from engine.settings import REPO_ROOT

pytestmark = pytest.mark.slow
MAPS = Path("/proc/self/maps")


def _queries() -> list[tuple[str, str]]:
    """Real questions: every shipped article's title in its language, and the demo tickets' texts."""
    queries = [(a.title, a.language) for a in load_kb(REPO_ROOT / "kb_content")]
    with (REPO_ROOT / "data" / "demo_tickets.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            ticket = json.loads(line)
            queries.append((ticket["text"], ticket.get("language") or "en"))
    return queries[:120]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_mapped_index_answers_exactly_as_the_in_heap_one(ready_registry: ModelRegistry, mode: str) -> None:
    root = ready_registry.settings.index_dir
    queries = _queries()
    texts, languages = [q for q, _ in queries], [lang for _, lang in queries]
    vectors = ready_registry.encoder.encode_queries(texts)
    mapped = Retriever.from_settings(ready_registry, root, mode=mode)
    legacy = LegacyRetriever.from_settings(ready_registry, root, mode=mode)
    assert isinstance(legacy.index, LegacyKBIndex) and isinstance(mapped.index, KBIndex)
    compared = 0
    for search_filter in (None, SearchFilter(include_internal=True), SearchFilter(languages=frozenset({"de"}))):
        new = mapped.run(vectors, languages, 5, search_filter, texts=texts)
        old = legacy.run(vectors, languages, 5, search_filter, texts=texts)
        assert new == old
        compared += sum(len(hits) for hits in new)
    assert compared > 2 * len(queries)  # the comparison compared something


def test_store_holds_the_articles_sections_and_windows_of_the_build(ready_registry: ModelRegistry) -> None:
    index = KBIndex.current(ready_registry.settings.index_dir, ready_registry.encoder.id)
    articles = load_kb(ready_registry.settings.kb_dir)
    assert list(index.articles.values()) == articles
    chunks = [c for a in articles for c in chunk_article(a)]
    assert list(index.chunks) == chunks and len(index.chunks) == len(chunks) == index.meta["chunks"]
    assert index.chunks[len(chunks) - 1] == chunks[-1] and index.chunks[-1] == chunks[-1]
    assert index.articles["delivery-where-is-my-order"].family == "delivery-where-is-my-order"
    assert index.family["delivery-where-is-my-order"]["de"] == "delivery-where-is-my-order-de"
    assert "no-such-article" not in index.articles and "no-such-article" not in index.rows_of
    rows = index.rows_of["delivery-where-is-my-order"]
    sections = index.chunks_of["delivery-where-is-my-order"]
    assert [index.chunks[r].article_id for r in sections] == ["delivery-where-is-my-order"] * len(sections)
    assert list(rows[: len(sections)]) == list(sections)  # its sections first, then their windows
    assert all(int(index.row_chunk[r]) in sections for r in rows[len(sections) :])
    assert index.row_chunk.shape[0] == index.index.ntotal
    if MAPS.is_file():  # Linux: the layout and the store are mapped from the build, not read into the heap
        maps = MAPS.read_text()
        assert str(index.folder / "rows.npy") in maps and str(index.folder / "article_spans.npy") in maps
        assert str(index.folder / STORE_FILE) in maps


def test_a_build_from_before_the_store_is_converted_on_load(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    """Data directories built by earlier versions hold JSONL files instead of the store: they keep working."""
    source = KBIndex.current(ready_registry.settings.index_dir, ready_registry.encoder.id)
    old = tmp_path / "index" / source.folder.name
    shutil.copytree(source.folder, old)
    (tmp_path / "index" / CURRENT).write_text(old.name)
    for name in (STORE_FILE, "rows.npy", "chunk_article.npy", "article_spans.npy"):
        (old / name).unlink()
    articles = load_kb(ready_registry.settings.kb_dir)
    chunks = [c for a in articles for c in chunk_article(a)]
    windows = [
        {"chunk": int(source.row_chunk[r]), "start": int(source.row_start[r]), "end": 0}
        for r in range(len(chunks), source.index.ntotal)
    ]
    for name, records in (
        ("articles.jsonl", [asdict(a) for a in articles]),
        ("chunks.jsonl", [asdict(c) for c in chunks]),
        ("windows.jsonl", windows),
    ):
        (old / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    converted = KBIndex.current(tmp_path / "index", ready_registry.encoder.id)
    assert (old / STORE_FILE).is_file() and not list(old.glob(".*.tmp"))
    assert list(converted.chunks) == chunks
    assert (converted.row_chunk == source.row_chunk).all() and (converted.row_start == source.row_start).all()
