"""The KB as Markdown files with front matter, cut into section chunks.

A chunk is one ``##`` section with its article's title in front: the title
carries the question a customer asks, the section carries the answer a draft
quotes, and each chunk still knows its article, anchor and language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml

from engine.errors import InvalidInput

REQUIRED = ("id", "title", "language", "product", "tags", "updated")
AUDIENCES = ("public", "internal")
_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    language: str
    product: str
    tags: tuple[str, ...]
    updated: str
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


def parse_article(path: Path) -> Article:
    try:
        post = frontmatter.load(path)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"front matter cannot be read: {exc}") from exc
    meta = post.metadata
    missing = [key for key in REQUIRED if key not in meta or meta[key] in (None, "")]
    if missing:
        raise InvalidInput(str(path), f"front matter lacks {', '.join(missing)}")
    audience = str(meta.get("audience", "public"))
    if audience not in AUDIENCES:
        raise InvalidInput(str(path), f"audience must be one of {AUDIENCES}; got {audience!r}")
    tags = meta["tags"]
    updated = meta["updated"]
    return Article(
        id=str(meta["id"]),
        title=str(meta["title"]),
        language=str(meta["language"]).lower(),
        product=str(meta["product"]),
        tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        updated=updated.isoformat() if isinstance(updated, dt.date) else str(updated),
        audience=audience,
        topic=str(meta["topic"]) if meta.get("topic") else None,
        translation_of=str(meta["translation_of"]) if meta.get("translation_of") else None,
        path=str(path),
        body=post.content.strip(),
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


def load_kb(kb_dir: Path) -> list[Article]:
    """Every ``*.md`` under ``kb_dir``; duplicate ids are refused, not silently merged."""
    if not kb_dir.is_dir():
        raise InvalidInput("kb", f"KB directory {kb_dir} does not exist")
    articles = [parse_article(p) for p in sorted(kb_dir.rglob("*.md")) if not p.name.startswith(("_", "."))]
    seen: dict[str, str] = {}
    for article in articles:
        if article.id in seen:
            raise InvalidInput("kb", f"article id {article.id!r} is used by {seen[article.id]} and {article.path}")
        seen[article.id] = article.path
    if not articles:
        raise InvalidInput("kb", f"no Markdown articles found in {kb_dir}")
    return articles
