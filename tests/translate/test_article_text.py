"""An article in the reader's language: the KB's own translation wins, then a machine one, else a clear refusal."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from engine.errors import NotFound, TranslationUnavailable
from engine.kb.articles import load_kb
from engine.retrieve.article_text import article_text
from engine.retrieve.index import KBIndex
from engine.settings import REPO_ROOT
from engine.translate import TranslatorChain
from engine.translate.cache import TranslationCache
from tests.translate.test_chain import Tagging


class ShippedKB:
    """The two fields of a loaded index that article lookups read, from the shipped KB's files."""

    def __init__(self, kb_dir: Path) -> None:
        self.articles = {a.id: a for a in load_kb(kb_dir)}
        self.family: dict[str, dict[str, str]] = {}
        for article in self.articles.values():
            self.family.setdefault(article.family, {})[article.language] = article.id


@pytest.fixture(scope="module")
def index() -> KBIndex:
    return cast(KBIndex, ShippedKB(REPO_ROOT / "kb_content"))


def read(index: KBIndex, article_id: str, language: str, *backends: Tagging, cache: Path | None = None):  # type: ignore[no-untyped-def]
    return article_text(index, "default", article_id, language, TranslatorChain(backends, TranslationCache(10, cache)))


def test_the_kb_translation_wins_over_any_machine(index: KBIndex) -> None:
    machine = Tagging("argos", [("en", "de"), ("de", "en")])
    german = read(index, "account-reset-password", "de", machine)
    assert german.translation == "kb" and german.source_id == "account-reset-password-de" and machine.calls == 0
    back = read(index, "account-reset-password-de", "en", machine)
    assert back.translation == "kb" and back.source_id == "account-reset-password" and back.language == "en"
    assert read(index, "account-reset-password", "en").translation == "original"


def test_a_missing_language_is_machine_translated_and_kept_on_disk(index: KBIndex, tmp_path: Path) -> None:
    machine = Tagging("bergamot", [("en", "pt")])
    text = read(index, "account-reset-password-de", "pt", machine, cache=tmp_path)
    # From the family's English original (a pair the backend has), not from the German version asked for.
    assert text.translation == "bergamot" and text.source_id == "account-reset-password" and text.language == "pt"
    assert text.title.startswith("<bergamot:pt> ") and text.body.startswith("<bergamot:pt> ")
    assert len(list(tmp_path.rglob("*.json"))) == 2  # title and body: public article text only
    read(index, "account-reset-password", "pt", machine, cache=tmp_path)
    assert machine.calls == 1


def test_no_version_and_no_backend_is_refused_with_the_languages_there_are(index: KBIndex) -> None:
    with pytest.raises(TranslationUnavailable, match=r"exists in de, en, es, hr.*no pt version"):
        read(index, "account-reset-password", "pt")


def test_unknown_and_internal_articles_are_not_found(index: KBIndex) -> None:
    internal = next(a.id for a in index.articles.values() if a.audience == "internal")
    for article_id in ("no-such-article", internal):
        with pytest.raises(NotFound):
            read(index, article_id, "en")
