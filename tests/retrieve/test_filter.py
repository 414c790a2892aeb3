"""Which articles a search may return: audience, product, language and tags."""

from __future__ import annotations

from dataclasses import replace

from engine.kb.articles import Article
from engine.retrieve.retriever import SearchFilter

ARTICLE = Article(
    id="account-locked", title="Locked account", language="en", product="Lumio app",
    tags=("Security", "locked account"), updated="2026-01-01", audience="public", topic="account",
    translation_of=None, path="account-locked.md", body="",
)


def test_an_empty_filter_allows_public_articles_only() -> None:
    assert SearchFilter().allows(ARTICLE)
    assert not SearchFilter().allows(replace(ARTICLE, audience="internal"))
    assert SearchFilter(include_internal=True).allows(replace(ARTICLE, audience="internal"))


def test_tags_match_any_one_of_them_in_any_case() -> None:
    assert SearchFilter(tags=frozenset({"security", "billing"})).allows(ARTICLE)
    assert not SearchFilter(tags=frozenset({"billing"})).allows(ARTICLE)


def test_every_set_filter_must_match() -> None:
    both = SearchFilter(products=frozenset({"Lumio app"}), languages=frozenset({"en"}), tags=frozenset({"security"}))
    assert both.allows(ARTICLE)
    assert not replace(both, languages=frozenset({"hr"})).allows(ARTICLE)
    assert not replace(both, products=frozenset({"Lumio Cam"})).allows(ARTICLE)
