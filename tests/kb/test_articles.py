from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.kb.articles import chunk_article, load_kb, parse_article
from engine.settings import REPO_ROOT

ARTICLE = """---
id: demo
title: Demo article
language: en
product: shop
tags: [a, b]
updated: 2026-01-02
{extra}---
Lead paragraph.

## First step

1. Do this.
2. Then that.

## Second step

Body two.
"""


def write(tmp_path: Path, name: str, extra: str = "") -> Path:
    path = tmp_path / name
    path.write_text(ARTICLE.format(extra=extra), encoding="utf-8")
    return path


def test_sections_become_chunks_with_anchors(tmp_path: Path) -> None:
    article = parse_article(write(tmp_path, "demo.md", "topic: delivery\n"))
    chunks = chunk_article(article)
    assert [c.section for c in chunks] == ["Demo article", "First step", "Second step"]
    assert chunks[1].anchor == "first-step"
    assert "1. Do this.\n2. Then that." in chunks[1].text
    assert article.updated == "2026-01-02" and article.audience == "public" and article.topic == "delivery"


def test_only_an_id_and_a_title_are_needed_and_the_file_gives_both(tmp_path: Path) -> None:
    # A helpdesk's existing Markdown, no front matter at all: the file name is the id, the first heading the title.
    plain = tmp_path / "Reset Your Password.md"
    plain.write_text("# How to reset your password\n\nOpen the app.\n\n## On the web\n\nClick Forgot.\n", encoding="utf-8")
    article = parse_article(plain, language_of=lambda text: "en" if "password" in text else "und")
    assert (article.id, article.title, article.language) == ("reset-your-password", "How to reset your password", "en")
    assert (article.product, article.tags, article.updated) == (None, (), None)
    assert [c.section for c in chunk_article(article)] == ["How to reset your password", "On the web"]
    assert "# How to reset" not in article.body

    # Front matter that names some fields: those win, the rest is filled in.
    partial = tmp_path / "partial.md"
    partial.write_text("---\ntitle: Lieferzeiten\nlanguage: de\n---\nPakete kommen in 3 Tagen.\n", encoding="utf-8")
    article = parse_article(partial, language_of=lambda _: pytest.fail("a given language is not detected"))
    assert (article.id, article.title, article.language, article.product) == ("partial", "Lieferzeiten", "de", None)


def test_an_article_without_title_or_language_is_refused_naming_the_file(tmp_path: Path) -> None:
    untitled = tmp_path / "untitled.md"
    untitled.write_text("Just a paragraph, no heading.\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="untitled.md.*no title"):
        parse_article(untitled)
    unknown = tmp_path / "unknown.md"
    unknown.write_text("# 123\n\n4567\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown.md.*language"):
        parse_article(unknown, language_of=lambda _: "und")
    assert parse_article(unknown).language == "und"  # for callers that read only the text


def test_bad_audience_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="audience"):
        parse_article(write(tmp_path, "aud.md", "audience: secret\n"))


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "one.md")
    write(tmp_path, "two.md")
    with pytest.raises(InvalidInput, match="used by"):
        load_kb(tmp_path)


def test_shipped_kb_is_valid_and_covers_the_product() -> None:
    articles = load_kb(REPO_ROOT / "kb_content")
    assert len(articles) >= 30
    assert {"en", "de", "es", "hr"} <= {a.language for a in articles}
    assert {"account", "billing", "delivery", "returns", "technical", "privacy"} <= {a.topic for a in articles}
    ids = {a.id for a in articles}
    for article in articles:
        assert article.translation_of is None or article.translation_of in ids
