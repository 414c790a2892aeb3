"""KB articles from other tools, written as the Markdown-with-front-matter files ``sift index`` reads.

Importing converts once into the KB directory instead of teaching the indexer
every source format: the files can then be reviewed, edited and versioned like
hand-written articles, and a re-import that changes little re-encodes little.

Two sources:

- a Zendesk Help Center articles export (the API's ``{"articles": [...]}`` pages
  or a JSON list). Bodies are HTML and become Markdown; translations share the
  Zendesk ``id`` across locales, and the version in ``source_locale`` is the
  original the others point to. Drafts are skipped; a user segment (restricted
  visibility) makes an article ``internal``.
- a CSV (or TSV) of FAQ question/answer pairs, one article per row; rows that
  share an ``id`` in different languages are translations of the first.

Ids carry the source and, for Zendesk, the locale, so they stay the same on
every re-import whatever else is published.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from markdownify import MarkdownConverter

from engine.errors import InvalidInput
from engine.kb.articles import AUDIENCES, slugify
from engine.user_files import read_user_text

FAQ_COLUMNS = {
    "question": "question",
    "answer": "answer",
    "id": "id",
    "language": "language",
    "product": "product",
    "tags": "tags",
    "audience": "audience",
    "updated": "updated",
}
FAQ_REQUIRED = ("question", "answer")
_LIST_SPLIT = re.compile(r"[,;|]")
_HTML = re.compile(r"</?(?:p|br|div|span|ul|ol|li|h[1-6]|strong|b|em|i|a|table|pre|code)\b[^>]*>", re.IGNORECASE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_ID_PART_CHARS = 80


@dataclass(frozen=True)
class ImportedArticle:
    """One article ready to be written; ``extra`` keeps where it came from in its front matter."""

    id: str
    title: str
    language: str
    product: str
    tags: tuple[str, ...]
    updated: str
    audience: str
    body: str
    translation_of: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def markdown(self) -> str:
        meta: dict[str, object] = {
            "id": self.id,
            "title": self.title,
            "language": self.language,
            "product": self.product,
            "tags": list(self.tags),
            "updated": self.updated,
            "audience": self.audience,
        }
        if self.translation_of:
            meta["translation_of"] = self.translation_of
        meta.update(self.extra)
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000)
        return f"---\n{front}---\n\n{self.body}\n"


@dataclass(frozen=True)
class ImportResult:
    articles: list[ImportedArticle]
    skipped: dict[str, int]
    """How many source records were left out, per reason."""


class _KBMarkdown(MarkdownConverter):
    """HTML to the Markdown the KB chunker cuts: every heading at least ``##``, no images.

    The chunker splits sections at ``##``/``###``, so a body's ``<h1>`` becomes
    ``##`` rather than being swallowed; images (screenshots named by file) would
    only add noise to the encoder and to quoted drafts. Text is not escaped: it is
    searched and quoted, not re-rendered.
    """

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: set[str]) -> str:  # noqa: N802 (markdownify's name)
        return super().convert_hN(max(n, 2), el, text, parent_tags)

    def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> str:
        return ""


def html_to_markdown(html: str) -> str:
    """Markdown with headings and lists kept; trailing and non-breaking spaces (``<p>&nbsp;</p>``) dropped."""
    converter = _KBMarkdown(
        heading_style="ATX", bullets="-", escape_asterisks=False, escape_underscores=False, escape_misc=False
    )
    lines = [line.rstrip() for line in converter.convert(html).splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()




def _file_date(path: Path) -> str:
    """The date an article without its own is dated: the export's, so re-importing one file changes nothing."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()


def _language(value: str) -> str:
    """ISO 639-1 from a locale: ``en-us`` and ``pt_BR`` become ``en`` and ``pt``."""
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]


def _id_part(value: str) -> str:
    """A file-name-safe id fragment; a long text keeps its start plus a hash, so two long questions never clash."""
    slug = slugify(value)
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=4).hexdigest()
    if not slug:
        return digest
    return slug if len(slug) <= _ID_PART_CHARS else f"{slug[:_ID_PART_CHARS].strip('-')}-{digest}"


def _one_line(title: str) -> str:
    """Titles are one line in front matter and in search results, whatever the source cell held."""
    return " ".join(title.split())


def _skip(skipped: dict[str, int], reason: str) -> None:
    skipped[reason] = skipped.get(reason, 0) + 1


# --- Zendesk Help Center -------------------------------------------------------------------------


def _zendesk_records(path: Path) -> list[Any]:
    raw = read_user_text(path, "FILE")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput("FILE", f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(document, dict) and "articles" in document:
        document = document["articles"]
    elif isinstance(document, dict) and isinstance(document.get("article"), dict):
        document = [document["article"]]
    if not isinstance(document, list):
        found = f"top-level keys {sorted(document)}" if isinstance(document, dict) else type(document).__name__
        raise InvalidInput("FILE", f'{path}: expected {{"articles": [...]}} or a list of articles; found {found}')
    return document


def _zendesk_field(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{where}.{key}", f"the article has no {key}")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(f"{where}.{key}", f"expected text or a number, got {type(value).__name__}")
    return str(value).strip()


def _zendesk_date(record: dict[str, Any], fallback: str) -> str:
    for key in ("updated_at", "edited_at", "created_at"):
        value = record.get(key)
        if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
            return value[:10]
    return fallback


def import_zendesk(paths: Iterable[Path], product: str) -> ImportResult:
    """Published Help Center articles, one per id and locale, translations linked to their source locale."""
    versions: dict[str, list[ImportedArticle]] = {}
    source_locales: dict[str, str] = {}
    skipped: dict[str, int] = {}
    for path in paths:
        records = _zendesk_records(path)
        fallback_date = _file_date(path)
        for n, record in enumerate(records):
            where = f"{path.name}: articles[{n}]"
            if not isinstance(record, dict):
                raise InvalidInput(where, f"expected an article object, got {type(record).__name__}")
            zid = _zendesk_field(record, "id", where)
            locale = _zendesk_field(record, "locale", where).lower()
            title = _one_line(_zendesk_field(record, "title", where))
            source_locale = record.get("source_locale")
            if isinstance(source_locale, str) and source_locale.strip():
                source_locales.setdefault(zid, source_locale.strip().lower())
            if record.get("draft"):
                _skip(skipped, "draft")
                continue
            body = record.get("body")
            if body is not None and not isinstance(body, str):
                raise InvalidInput(f"{where}.body", f"expected HTML text, got {type(body).__name__}")
            markdown = html_to_markdown(body or "")
            if not markdown:
                _skip(skipped, "empty body")
                continue
            if any(v.extra["locale"] == locale for v in versions.get(zid, [])):
                raise InvalidInput(where, f"article {zid} appears twice in locale {locale}")
            labels = record.get("label_names") or []
            if not isinstance(labels, list):
                raise InvalidInput(f"{where}.label_names", f"expected a list, got {type(labels).__name__}")
            extra: dict[str, object] = {"source": "zendesk", "source_id": zid, "locale": locale}
            for key in ("section_id", "html_url"):
                if record.get(key) is not None:
                    extra[key] = record[key]
            versions.setdefault(zid, []).append(
                ImportedArticle(
                    id=f"zendesk-{_id_part(zid)}-{_id_part(locale)}",
                    title=title,
                    language=_language(locale),
                    product=product,
                    tags=tuple(str(label) for label in labels if isinstance(label, str | int)),
                    updated=_zendesk_date(record, fallback_date),
                    # A user segment restricts who may read the article: agents only, for our purposes.
                    audience="internal" if record.get("user_segment_id") is not None else "public",
                    body=markdown,
                    extra=extra,
                )
            )
    articles = _link_translations(versions, lambda zid, a: a.extra["locale"] == source_locales.get(zid))
    return ImportResult(articles, skipped)


# --- FAQ question/answer CSV ---------------------------------------------------------------------


def _faq_rows(
    path: Path, raw: str, names: dict[str, str], required: set[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) per record, the row keyed by our field names; absent optional columns are left out.

    ``strict`` makes a stray or unclosed quote an error instead of silently swallowing the rest of the file.
    """
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(raw, newline=""), delimiter=delimiter, strict=True)
    try:
        header = reader.fieldnames or []
        if not header:
            raise InvalidInput("FILE", f"{path} has no header row")
        missing = [column for key, column in names.items() if key in required and column not in header]
        if missing:
            listed = ", ".join(map(repr, missing))
            raise InvalidInput(missing[0], f"no column {listed} in {path}; its columns are {header}")
        present = {key: column for key, column in names.items() if column in header}
        for row in reader:
            if None in row:
                raise InvalidInput("FILE", f"{path}: line {reader.line_num} has more fields than the header")
            yield reader.line_num, {key: (row.get(column) or "").strip() for key, column in present.items()}
    except csv.Error as exc:
        raise InvalidInput("FILE", f"{path}: line {reader.line_num} is not valid CSV ({exc})") from exc


def _faq_article(row: dict[str, str], where: str, product: str, language: str, fallback_date: str) -> ImportedArticle:
    given = row.get("language") or language
    lang = _language(given)
    if not re.fullmatch(r"[a-z]{2,3}", lang):
        raise InvalidInput(where, f"language {given!r} is not an ISO 639-1 code or locale")
    audience = (row.get("audience") or "public").lower()
    if audience not in AUDIENCES:
        raise InvalidInput(where, f"audience must be one of {AUDIENCES}; got {audience!r}")
    updated = row.get("updated") or fallback_date
    if not re.match(r"\d{4}-\d{2}-\d{2}", updated):
        raise InvalidInput(where, f"updated {updated!r} is not a date (YYYY-MM-DD)")
    answer = row["answer"]
    key = row.get("id") or row["question"]
    extra: dict[str, object] = {"source": "faq-csv"} | ({"source_id": row["id"]} if row.get("id") else {})
    return ImportedArticle(
        id=f"faq-{_id_part(key)}-{lang}",
        title=_one_line(row["question"]),
        language=lang,
        product=row.get("product") or product,
        tags=tuple(t.strip() for t in _LIST_SPLIT.split(row.get("tags", "")) if t.strip()),
        updated=updated[:10],
        audience=audience,
        body=html_to_markdown(answer) if _HTML.search(answer) else answer,
        extra=extra,
    )


def import_faq_csv(
    paths: Iterable[Path], product: str, language: str, columns: dict[str, str] | None = None
) -> ImportResult:
    """One article per question/answer row; ``columns`` renames ours (question, answer, id, ...) to the file's.

    Optional columns are used when the file has them; a column the caller names must exist.
    """
    unknown = sorted(set(columns or {}) - set(FAQ_COLUMNS))
    if unknown:
        raise InvalidInput("columns", f"unknown FAQ fields {unknown}; known are {sorted(FAQ_COLUMNS)}")
    names = {**FAQ_COLUMNS, **(columns or {})}
    required = set(FAQ_REQUIRED) | set(columns or {})
    versions: dict[str, list[ImportedArticle]] = {}
    first_line: dict[str, str] = {}
    skipped: dict[str, int] = {}
    for path in paths:
        raw = read_user_text(path, "FILE")
        fallback_date = _file_date(path)
        for line, row in _faq_rows(path, raw, names, required):
            where = f"{path.name}: line {line}"
            if not row["question"] or not row["answer"]:
                _skip(skipped, "empty question or answer")
                continue
            article = _faq_article(row, where, product, language, fallback_date)
            if article.id in first_line:
                raise InvalidInput(
                    where, f"{article.language} article {article.id!r} repeats the one on {first_line[article.id]}"
                )
            first_line[article.id] = where
            versions.setdefault(row.get("id") or row["question"], []).append(article)
    return ImportResult(_link_translations(versions, lambda _key, _article: False), skipped)


def _link_translations(
    versions: dict[str, list[ImportedArticle]], is_source: Callable[[str, ImportedArticle], bool]
) -> list[ImportedArticle]:
    """Point every version of one source record at its original: the one ``is_source`` picks, else the first."""
    linked: list[ImportedArticle] = []
    for key, group in versions.items():
        original = next((a for a in group if is_source(key, a)), group[0])
        linked += [a if a is original else replace(a, translation_of=original.id) for a in group]
    return linked


def write_articles(articles: list[ImportedArticle], out_dir: Path) -> list[Path]:
    """One ``<id>.md`` per article; a re-import overwrites its own earlier files and leaves others alone."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput("--out", f"{out_dir} is not a directory")
    paths = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for article in articles:
            path = out_dir / f"{article.id}.md"
            path.write_text(article.markdown(), encoding="utf-8")
            paths.append(path)
    except OSError as exc:
        raise InvalidInput("--out", f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    return paths
