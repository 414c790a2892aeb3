"""Labelled tickets from helpdesk exports (Zendesk JSON, Freshdesk CSV or API JSON).

A helpdesk already holds years of tickets its agents labelled by hand; these
readers turn its export into the same ``LabelledTickets`` that ``sift train``
reads from a CSV, so training does not know where the examples came from.

Where the label lives differs per helpdesk and per account, so the caller names
it with a *field spec*:

- ``name``: a top-level field (Zendesk ``type``) or a column (Freshdesk ``Type``, ``Group``); Zendesk fields
  nest with dots (``via.channel``);
- ``tag:<prefix>``: the first tag starting with ``<prefix>``, the prefix stripped (``tag:topic_`` turns
  ``topic_billing`` into ``billing``);
- ``custom_field:<id>``: a Zendesk custom field's value.

Urgency labels are mapped from the helpdesks' priorities (Freshdesk's ``Medium``
is our ``normal``); a priority outside the map is refused, not guessed.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.training.data import LabelledTickets, join_subject, json_lines, read_labelled
from engine.user_files import read_user_text

FORMATS = ("auto", "zendesk", "freshdesk")
PRIORITY_TO_URGENCY = {
    "low": "low",
    "normal": "normal",
    "medium": "normal",
    "high": "high",
    "urgent": "urgent",
    # Freshdesk's API and some exports give the priority as a number.
    "1": "low",
    "2": "normal",
    "3": "high",
    "4": "urgent",
}
_TAG = "tag:"
_CUSTOM_FIELD = "custom_field:"
FRESHDESK_SOURCES = {
    # Freshdesk's API gives a ticket's source as a number; its CSV export gives the name.
    "1": "email",
    "2": "portal",
    "3": "phone",
    "4": "forum",
    "5": "twitter",
    "6": "facebook",
    "7": "chat",
    "8": "mobihelp",
    "9": "feedback widget",
    "10": "outbound email",
}
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BLOCK_END = re.compile(r"</(?:p|div|li|h\d)>|<br\s*/?>", re.IGNORECASE)


def read_training_data(
    path: Path,
    fmt: str,
    heads: dict[str, str],
    text_column: str | None = None,
    subject_column: str | None = None,
) -> LabelledTickets:
    """Labelled tickets for ``heads`` (head name -> column or field spec), keyed by head name.

    ``auto`` is the plain CSV/TSV/JSONL reader, whose text and subject columns
    the caller names; the helpdesk formats know where their text lives.
    """
    if fmt not in FORMATS:
        raise InvalidInput("--format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if fmt == "auto":
        data = read_labelled(path, text_column or "text", list(dict.fromkeys(heads.values())), subject_column)
        return LabelledTickets(data.texts, {name: data.columns[column] for name, column in heads.items()})
    for option, value in (("--text-column", text_column), ("--subject-column", subject_column)):
        if value is not None:
            raise InvalidInput(option, f"applies to --format auto only; {fmt} exports name their own text fields")
    reader = read_zendesk if fmt == "zendesk" else read_freshdesk
    return reader(path, heads)


def _plain(text: str) -> str:
    """Exports often carry HTML bodies; the heads should see the words, not the markup."""
    if not _HTML_TAG.search(text):
        return text.strip()
    text = _BLOCK_END.sub("\n", text)
    return html.unescape(_HTML_TAG.sub("", text)).strip()


def _first_tag(tags: list[str], prefix: str) -> str | None:
    for tag in tags:
        if tag.startswith(prefix) and tag[len(prefix) :].strip():
            return tag[len(prefix) :].strip()
    return None


def _as_label(value: object, spec: str, where: str) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, (dict, list)):
        raise InvalidInput(spec, f"{where}: the value is a {type(value).__name__}, not a label")
    return str(value).strip() or None


def _urgency(value: str | None, spec: str, where: str) -> str | None:
    if value is None:
        return None
    urgency = PRIORITY_TO_URGENCY.get(value.lower())
    if urgency is None:
        raise InvalidInput(
            spec, f"{where}: priority {value!r} is not one of Low, Medium/Normal, High, Urgent (or 1-4)"
        )
    return urgency


def _check_spec(spec: str) -> None:
    if spec.startswith(_TAG) and not spec[len(_TAG) :]:
        raise InvalidInput(spec, "give the tag prefix after 'tag:', e.g. 'tag:topic_'")
    if spec.startswith(_CUSTOM_FIELD) and not spec[len(_CUSTOM_FIELD) :].strip().isdigit():
        raise InvalidInput(spec, "give the numeric custom field id after 'custom_field:', e.g. 'custom_field:360001'")


def _collect(
    path: Path,
    items: list[Any],
    heads: dict[str, str],
    text_of: Callable[[Any], str],
    label_of: Callable[[Any, str, str], str | None],
    text_field: str,
    noun: str,
) -> LabelledTickets:
    """The shared loop: skip items without a body, label the rest, refuse a label no item carries."""
    texts: list[str] = []
    columns: dict[str, list[str | None]] = {name: [] for name in heads}
    for n, item in enumerate(items, start=1):
        text = text_of(item)
        if not text:
            continue
        texts.append(text)
        ident = item.get("id") or item.get("ticket id") if isinstance(item, dict) else None
        where = f"{noun} {n}" + (f" (id {ident})" if ident else "")
        for name, spec in heads.items():
            label = label_of(item, spec, where)
            columns[name].append(_urgency(label, spec, where) if name == "urgency" else label)
    if not texts:
        raise InvalidInput(text_field, f"no {noun} in {path} has a {text_field}: there is no text to learn from")
    for name, spec in heads.items():
        if not any(columns[name]):
            raise InvalidInput(spec, f"no {noun} in {path} has a value for {spec!r}; the {name} head has no labels")
    return LabelledTickets(texts=texts, columns=columns)


# Zendesk -----------------------------------------------------------------------------------------------------------




def _zendesk_tickets(path: Path) -> list[Any]:
    """Tickets from a JSON array, ``{"tickets": [...]}`` (the API's pages), or one ticket per line.

    Zendesk's own "JSON export" writes one ticket object per line even in a
    ``.json`` file, so a document with more after its first value is read as lines.
    """
    raw = read_user_text(path, "DATA")
    if not raw.strip():
        raise InvalidInput("DATA", f"{path} holds no tickets")
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return json_lines(path, raw)
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return json_lines(path, raw)
        raise InvalidInput("DATA", f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("tickets", "results"):
            if key in document:
                if not isinstance(document[key], list):
                    raise InvalidInput(key, f"{path}: {key!r} must be a list of ticket objects")
                return list(document[key])
        if isinstance(document.get("ticket"), dict):
            return [document["ticket"]]
        if "id" in document:
            return [document]
        raise InvalidInput("tickets", f"{path}: no 'tickets' list; the top-level keys are {sorted(document)}")
    raise InvalidInput("DATA", f"{path}: expected a list of tickets or {{\"tickets\": [...]}}")


def _zendesk_text(ticket: dict[str, Any]) -> str:
    """Subject and description; without a description, the first comment (Zendesk makes it from the description)."""
    description = ticket.get("description")
    body = _plain(description) if isinstance(description, str) else ""
    comments = ticket.get("comments")
    if not body and isinstance(comments, list) and comments and isinstance(comments[0], dict):
        for key in ("plain_body", "body", "html_body"):
            value = comments[0].get(key)
            if isinstance(value, str) and value.strip():
                body = _plain(value)
                break
    if not body:
        return ""
    subject = ticket.get("subject")
    return join_subject(subject if isinstance(subject, str) else None, body)


def _zendesk_label(ticket: dict[str, Any], spec: str, where: str) -> str | None:
    if spec.startswith(_TAG):
        tags = ticket.get("tags")
        return _first_tag([str(t) for t in tags] if isinstance(tags, list) else [], spec[len(_TAG) :])
    if spec.startswith(_CUSTOM_FIELD):
        wanted = spec[len(_CUSTOM_FIELD) :].strip()
        for key in ("custom_fields", "fields"):
            for field in ticket.get(key) or []:
                if isinstance(field, dict) and str(field.get("id")) == wanted:
                    return _as_label(field.get("value"), spec, where)
        return None
    value: Any = ticket
    for key in spec.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return _as_label(value, spec, where)


def read_zendesk(path: Path, heads: dict[str, str]) -> LabelledTickets:
    """A Zendesk ticket export: text from subject and description, labels from ``heads``' field specs."""
    for spec in heads.values():
        _check_spec(spec)
    tickets = _zendesk_tickets(path)
    if not tickets:
        raise InvalidInput("DATA", f"{path} holds no tickets")
    for n, ticket in enumerate(tickets, start=1):
        if not isinstance(ticket, dict):
            raise InvalidInput("DATA", f"{path}: ticket {n} is not a JSON object")
    present = {key for ticket in tickets for key in ticket}
    for spec in heads.values():
        if not spec.startswith((_TAG, _CUSTOM_FIELD)) and spec.split(".")[0] not in present:
            raise InvalidInput(spec, f"no ticket in {path} has a field {spec!r}; fields are {sorted(present)}")
    return _collect(path, tickets, heads, _zendesk_text, _zendesk_label, "description", "ticket")


# Freshdesk ---------------------------------------------------------------------------------------------------------


def _freshdesk_json_row(ticket: dict[str, Any]) -> dict[str, str]:
    """One API ticket as a CSV export row would hold it: plain-text description, source and tags by name."""
    row = {k.lower(): "" if v is None else str(v) for k, v in ticket.items() if not isinstance(v, (dict, list))}
    text = ticket.get("description_text") or ticket.get("description") or ""
    row["description"] = text if isinstance(text, str) else ""
    source = row.get("source", "")
    row["source"] = FRESHDESK_SOURCES.get(source, source)
    tags = ticket.get("tags")
    row["tags"] = ", ".join(str(t) for t in tags) if isinstance(tags, list) else ""
    return row


def _freshdesk_json_rows(path: Path, raw: str) -> list[dict[str, str]]:
    """Tickets of Freshdesk's API (``GET /api/v2/tickets``): a list, ``{"tickets": [...]}`` or one per line."""
    try:
        document: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data" and path.suffix.lower() not in {".jsonl", ".ndjson"}:
            raise InvalidInput("DATA", f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
        document = json_lines(path, raw)
    if isinstance(document, dict):
        if not isinstance(document.get("tickets"), list):
            raise InvalidInput("tickets", f"{path}: no 'tickets' list; the top-level keys are {sorted(document)}")
        document = document["tickets"]
    if not isinstance(document, list):
        raise InvalidInput("DATA", f"{path}: expected a list of tickets or {{\"tickets\": [...]}}")
    for n, ticket in enumerate(document, start=1):
        if not isinstance(ticket, dict):
            raise InvalidInput("DATA", f"{path}: ticket {n} is not a JSON object")
    return [_freshdesk_json_row(t) for t in document]


def _freshdesk_rows(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """Rows keyed by lower-cased column name, and the header as written (for messages).

    A ``.json``/``.jsonl`` file is the API's ticket list (``description_text``, numeric ``source``), read
    into the same rows as the CSV export's.
    """
    raw = read_user_text(path, "DATA")
    if path.suffix.lower() in {".json", ".jsonl", ".ndjson"}:
        if not raw.strip():
            raise InvalidInput("DATA", f"{path} holds no rows")
        rows = _freshdesk_json_rows(path, raw)
        if not rows:
            raise InvalidInput("DATA", f"{path} holds no rows")
        header = sorted({k for row in rows for k in row})
        return rows, header
    try:
        reader = csv.DictReader(io.StringIO(raw, newline=""))
        rows = [
            {k.strip().lower(): v if isinstance(v, str) else "" for k, v in row.items() if k}
            for row in reader
        ]
    except csv.Error as exc:
        raise InvalidInput("DATA", f"{path} is not a readable CSV file ({exc})") from exc
    header = [h.strip() for h in reader.fieldnames or [] if h and h.strip()]
    if not rows:
        raise InvalidInput("DATA", f"{path} holds no rows")
    if "description" not in rows[0]:
        raise InvalidInput(
            "Description", f"no column 'Description' in {path} (include it in the export); columns are {header}"
        )
    return rows, header


def _freshdesk_label(row: dict[str, str], spec: str, where: str) -> str | None:
    if spec.startswith(_TAG):
        return _first_tag([t.strip() for t in row.get("tags", "").split(",")], spec[len(_TAG) :])
    return _as_label(row.get(spec.strip().lower()), spec, where)


def _freshdesk_text(row: dict[str, str]) -> str:
    body = _plain(row.get("description", ""))
    return join_subject(row.get("subject"), body) if body else ""


def read_freshdesk(path: Path, heads: dict[str, str]) -> LabelledTickets:
    """A Freshdesk ticket export (CSV, or the API's JSON); column names match case-insensitively ("Type", "type")."""
    for spec in heads.values():
        _check_spec(spec)
        if spec.startswith(_CUSTOM_FIELD):
            raise InvalidInput(spec, "Freshdesk exports custom fields as columns: name the column instead")
    rows, header = _freshdesk_rows(path)
    for spec in heads.values():
        column = "Tags" if spec.startswith(_TAG) else spec.strip()
        if column.lower() not in rows[0]:
            raise InvalidInput(spec, f"no column {column!r} in {path}; columns are {header}")
    return _collect(path, rows, heads, _freshdesk_text, _freshdesk_label, "Description", "row")


# Any fields, for `sift backtest` -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRecords:
    """The text of every ticket that has one and the raw value of each named field (no label mapping)."""

    texts: list[str]
    fields: dict[str, list[str | None]]
    skipped: int
    """Tickets without a body: nothing to replay."""


def read_export(
    path: Path, fmt: str, fields: dict[str, str], defaults: dict[str, tuple[str, ...]] | None = None
) -> ExportRecords:
    """Tickets of a Zendesk or Freshdesk export with the fields a replay groups and scores by.

    ``fields`` (name -> field spec, as the label specs above) must exist in the export; ``defaults`` (name ->
    specs to try in order) are the export's own fields for dates and channels, kept only where present, so a
    trimmed export still reads. Values stay as written (a priority is not mapped to an urgency).
    """
    if fmt not in ("zendesk", "freshdesk"):
        raise InvalidInput("--format", f"must be zendesk or freshdesk here; got {fmt!r}")
    for spec in fields.values():
        _check_spec(spec)
    items: list[Any]
    if fmt == "zendesk":
        items = _zendesk_tickets(path)
        if not items:
            raise InvalidInput("DATA", f"{path} holds no tickets")
        for n, ticket in enumerate(items, start=1):
            if not isinstance(ticket, dict):
                raise InvalidInput("DATA", f"{path}: ticket {n} is not a JSON object")
        present = {key for ticket in items for key in ticket}
        text_of, label_of, noun, listing = _zendesk_text, _zendesk_label, "ticket", sorted(present)
    else:
        items, listing = _freshdesk_rows(path)
        present = {key for row in items for key in row}
        text_of, label_of, noun = _freshdesk_text, _freshdesk_label, "row"

    def has(spec: str) -> bool:
        if spec.startswith(_CUSTOM_FIELD):
            return fmt == "zendesk"
        if spec.startswith(_TAG):
            return fmt == "zendesk" or "tags" in present
        return (spec.split(".")[0] if fmt == "zendesk" else spec.strip().lower()) in present

    for spec in fields.values():
        if not has(spec):
            raise InvalidInput(spec, f"no {noun} in {path} has a field {spec!r}; fields are {listing}")
    chosen = dict(fields)
    for name, specs in (defaults or {}).items():
        found = next((spec for spec in specs if has(spec)), None)
        if name not in chosen and found is not None:
            chosen[name] = found
    texts: list[str] = []
    values: dict[str, list[str | None]] = {name: [] for name in chosen}
    for n, item in enumerate(items, start=1):
        text = text_of(item)
        if not text:
            continue
        texts.append(text)
        for name, spec in chosen.items():
            values[name].append(label_of(item, spec, f"{noun} {n}"))
    return ExportRecords(texts, values, len(items) - len(texts))
