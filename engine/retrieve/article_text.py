"""One article in the language a reader asks for: the KB's own translation first, then a machine one.

A translation a person wrote into the KB (``translation_of``) always wins over any machine, so machine
translation is reached only for languages the KB lacks. Only public articles are served: the endpoint carries
the customer-facing ``suggest`` scope. Machine translations of articles hold no customer data, so they are
kept on disk and made once per article version.
"""

from __future__ import annotations

from engine.errors import NotFound, TranslationUnavailable
from engine.kb.articles import Article
from engine.retrieve.index import KBIndex
from engine.translate import KB, ORIGINAL, TranslatorChain
from engine.types import ArticleText


def article_text(index: KBIndex, kb: str, article_id: str, language: str, translator: TranslatorChain) -> ArticleText:
    """Raises ``NotFound`` for an unknown or internal article, ``TranslationUnavailable`` when no KB version
    and no installed backend gives ``language``."""
    article = index.articles.get(article_id)
    if article is None or article.audience != "public":
        raise NotFound(f"no public article {article_id!r} in the knowledge base {kb!r}")
    if article.language == language:
        return _text(article_id, kb, article, article.title, article.body, language, ORIGINAL)
    own = index.family.get(article.family, {}).get(language)
    if own is not None and index.articles[own].audience == "public":
        version = index.articles[own]
        return _text(article_id, kb, version, version.title, version.body, language, KB)
    # The asked version first, then the family's original, then the other versions: whichever a backend reads.
    family = index.family.get(article.family, {})
    versions = [article, *(index.articles[i] for i in sorted(family.values(), key=lambda i: i != article.family))]
    public = [v for v in versions if v.audience == "public"]
    source = next((v for v in public if translator.can_translate(v.language, language)), None)
    if source is None:
        have = ", ".join(sorted({v.language for v in public}))
        raise TranslationUnavailable(
            f"article {article_id!r} exists in {have}; the KB has no {language} version and no installed "
            f"translation backend translates one of those into {language}"
        )
    done = translator.translate_marked([source.title, source.body], source.language, language, persist=True)
    title, body = done.texts
    return _text(article_id, kb, source, title, body, language, done.backend)


def _text(asked: str, kb: str, source: Article, title: str, body: str, language: str, how: str) -> ArticleText:
    return ArticleText(
        id=asked,
        kb=kb,
        language=language,
        title=title,
        body=body,
        source_id=source.id,
        source_language=source.language,
        translation=how,
    )
