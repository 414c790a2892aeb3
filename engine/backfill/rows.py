"""The input of a backfill, read row by row (a 10-million-row file never sits in memory), each with its ticket id.

The ticket id is what resume and "each ticket exactly once" count by: the value of ``--id-column`` when the
file has one, else ``row-<number>-<12 hex digits of SHA-256 over text, subject and customer id>``. The hash is
there so that a restart against a different file (or the same name, edited) does not take row 7's result
for another ticket's; the row number keeps two identical texts apart.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput

SUFFIXES = {".jsonl", ".ndjson", ".csv", ".tsv"}


@dataclass(frozen=True)
class Columns:
    """Which input column holds what (the text column is required, the others optional)."""

    text: str = "text"
    subject: str | None = None
    customer_id: str | None = None
    ticket_id: str | None = None


@dataclass(frozen=True)
class Row:
    """One input row, ready for the pipeline (or refused): small and picklable, it travels to Ray workers."""

    row: int
    ticket_id: str
    text: str
    subject: str | None = None
    customer_id: str | None = None
    kb: str | None = None
    error: dict[str, str] | None = None


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a .csv, .tsv or .jsonl file, one at a time; refused as ``engine.training.data.read_rows`` does."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("DATA", f"{path}: unsupported file type {suffix!r}; use .csv, .tsv or .jsonl")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            if suffix in {".csv", ".tsv"}:
                yield from csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                return
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput("DATA", f"{path}: line {n} is not valid JSON ({exc.msg})") from exc
                if not isinstance(row, dict):
                    raise InvalidInput("DATA", f"{path}: line {n} is not a JSON object")
                yield row
    except UnicodeDecodeError as exc:
        raise InvalidInput("DATA", f"{path} is not UTF-8 text") from exc


def check_columns(path: Path, columns: Columns) -> None:
    """Refuse a column the file's first row lacks before any work starts (an empty file passes)."""
    first = next(read_rows(path), None)
    if first is None:
        return
    named = [(columns.text, columns.text), ("--customer-id-column", columns.customer_id), ("--id-column", columns.ticket_id)]
    for field, column in named:
        if column and column not in first:
            raise InvalidInput(field, f"no column {column!r} in {path}; columns are {sorted(first)}")


def derived_id(row: int, text: str, subject: str | None, customer_id: str | None) -> str:
    """The id of a ticket whose file has no id column: stable across runs of the same file."""
    digest = hashlib.sha256("\x1f".join((text, subject or "", customer_id or "")).encode("utf-8")).hexdigest()
    return f"row-{row}-{digest[:12]}"


def prepared(path: Path, columns: Columns, kb: str | None) -> Iterator[Row]:
    """Every row of ``path`` as a :class:`Row`, in file order; an empty text is a refused row, as before."""
    for n, raw in enumerate(read_rows(path)):
        text = str(raw.get(columns.text) or "")
        subject = raw.get(columns.subject) if columns.subject else None
        customer = str(raw.get(columns.customer_id) or "").strip() if columns.customer_id else ""
        subject_text = str(subject) if subject else None
        given = str(raw.get(columns.ticket_id) or "").strip() if columns.ticket_id else ""
        ticket_id = given or derived_id(n, text, subject_text, customer or None)
        if not text.strip():
            yield Row(n, ticket_id, text, error={"field": columns.text, "message": "empty text"})
            continue
        yield Row(n, ticket_id, text, subject_text, customer or None, kb)
