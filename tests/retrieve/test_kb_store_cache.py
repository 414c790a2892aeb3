"""The build's store on its own (no models): written, read back by position and id, and a bounded cache that
never drops an article a read still needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.kb.articles import Article, Chunk
from engine.retrieve import kb_store
from engine.retrieve.kb_store import ArticleView, ChunkView, FamilyView, KBStore, write_store
from engine.retrieve.windows import Window


def _articles(n: int) -> list[Article]:
    return [
        Article(id=f"a{i}", title=f"Title {i}", language="de" if i % 2 else "en", product=None, tags=("x", f"t{i}"),
                updated=None, audience="public", topic=None, translation_of=f"a{i - 1}" if i % 2 else None,
                path=f"a{i}.md", body=f"Body {i}")
        for i in range(n)
    ]


def test_reads_match_what_was_written_and_the_cache_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb_store, "CACHE_ARTICLES", 4)
    articles = _articles(30)
    chunks = [Chunk(a.id, f"S{j}", f"s{j}", f"text {a.id} {j}", j) for a in articles for j in range(2)]
    windows = [Window(row, 0, 3) for row in range(0, len(chunks), 3)]
    write_store(tmp_path, articles, chunks, windows)
    assert not list(tmp_path.glob(".*"))  # temporary names all renamed
    store = KBStore(tmp_path)
    # More positions than the cache holds, with repeats and cached ones in between: every one comes back.
    wanted = [5, 1, 5, 29, 0, 7, 8, 9, 1, 2, 3, 28]
    assert store.articles_at(wanted) == [articles[p] for p in wanted]
    assert store.articles_at(wanted[::-1]) == [articles[p] for p in wanted[::-1]]
    assert len(store._cache) <= 4
    with pytest.raises(IndexError):
        store.articles_at([30])
    view = ArticleView(store)
    assert view["a7"] == articles[7] and "a30" not in view and list(view) == [a.id for a in articles]
    assert list(ChunkView(store)) == chunks and ChunkView(store)[3] == chunks[3]
    assert FamilyView(store)["a2"] == {"en": "a2", "de": "a3"}
    with pytest.raises(KeyError):
        FamilyView(store)["a3"]


def test_sections_out_of_article_order_are_refused(tmp_path: Path) -> None:
    articles = _articles(2)
    chunks = [Chunk("a1", "S", "s", "t", 0), Chunk("a0", "S", "s", "t", 0)]
    with pytest.raises(ValueError, match="grouped by article"):
        write_store(tmp_path, articles, chunks, [])
