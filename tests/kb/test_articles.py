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


def test_missing_front_matter_and_bad_audience_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\nid: x\ntitle: y\n---\nbody\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="language"):
        parse_article(bad)
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
