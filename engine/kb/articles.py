"""The KB as Markdown files, with or without front matter, cut into section chunks.

A chunk is one ``##`` section with its article's title in front: the title
carries the question a customer asks, the section carries the answer a draft
quotes, and each chunk still knows its article, anchor and language.

A helpdesk's existing Markdown must index as it is: only an id and a title are needed, and the file name
gives the one and the first ``#`` heading the other; the language is detected when not given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from engine.errors import InvalidInput

AUDIENCES = ("public", "internal")
UNKNOWN_LANGUAGE = "und"
_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    language: str
    product: str | None
    tags: tuple[str, ...]
    updated: str | None
    audience: str
    topic: str | None
    translation_of: str | None
    path: str
    body: str

    @property
    def family(self) -> str:
        """The id shared by an article and all its translations."""
        return self.translation_of or self.id


@dataclass(frozen=True)
class Chunk:
    article_id: str
    section: str
    anchor: str
    text: str
    position: int


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.UNICODE)
    return re.sub(r"[\s_]+", "-", slug).strip("-")


def _given(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def parse_article(path: Path, language_of: Callable[[str], str] | None = None) -> Article:
    """One article; ``language_of`` names the language of one without ``language`` in its front matter
    (``und`` when it cannot tell, which refuses the article). Without it such an article's language is ``und``:
    enough for callers that read only the text."""
    try:
        post = frontmatter.load(path)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"front matter cannot be read: {exc}") from exc
    meta = post.metadata
    body = post.content.strip()
    title = _given(meta, "title")
    if title is None and (heading := _TITLE.search(body)) is not None and not body[: heading.start()].strip():
        title, body = heading.group(1), body[heading.end() :].strip()
    if title is None:
        raise InvalidInput(str(path), "has no title: give `title:` in its front matter or start it with a '# ' heading")
    language = _given(meta, "language")
    if language is None and language_of is not None:
        language = language_of(f"{title}\n{body}")
        if language == UNKNOWN_LANGUAGE:
            raise InvalidInput(str(path), "its language cannot be told from its text: add `language:` to its front matter")
    audience = str(meta.get("audience", "public"))
    if audience not in AUDIENCES:
        raise InvalidInput(str(path), f"audience must be one of {AUDIENCES}; got {audience!r}")
    tags = meta.get("tags") or []
    updated = meta.get("updated")
    return Article(
        id=_given(meta, "id") or slugify(path.stem),
        title=title,
        language=(language or UNKNOWN_LANGUAGE).lower(),
        product=_given(meta, "product"),
        tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        updated=updated.isoformat() if isinstance(updated, dt.date) else _given(meta, "updated"),
        audience=audience,
        topic=_given(meta, "topic"),
        translation_of=_given(meta, "translation_of"),
        path=str(path),
        body=body,
    )


def chunk_article(article: Article) -> list[Chunk]:
    """One chunk per ``##``/``###`` section; text before the first heading becomes an overview chunk."""
    matches = list(_HEADING.finditer(article.body))
    pieces: list[tuple[str, str]] = []
    lead = article.body[: matches[0].start()].strip() if matches else article.body.strip()
    if lead:
        pieces.append((article.title, lead))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(article.body)
        body = article.body[m.end() : end].strip()
        if body:
            pieces.append((m.group(2).strip(), body))
    return [
        Chunk(article.id, section, slugify(section), body, position)
        for position, (section, body) in enumerate(pieces)
    ]


def load_kb(kb_dir: Path, language_of: Callable[[str], str] | None = None) -> list[Article]:
    """Every ``*.md`` under ``kb_dir`` (``parse_article`` says what ``language_of`` does); duplicate ids are
    refused, not silently merged."""
    if not kb_dir.is_dir():
        raise InvalidInput("kb", f"KB directory {kb_dir} does not exist")
    articles = [parse_article(p, language_of) for p in sorted(kb_dir.rglob("*.md")) if not p.name.startswith(("_", "."))]
    seen: dict[str, str] = {}
    for article in articles:
        if article.id in seen:
            raise InvalidInput("kb", f"article id {article.id!r} is used by {seen[article.id]} and {article.path}")
        seen[article.id] = article.path
    if not articles:
        raise InvalidInput("kb", f"no Markdown articles found in {kb_dir}")
    return articles
