"""Reading labelled tickets from CSV or JSONL, refusing bad files with the reason."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.normalise import Normaliser
from engine.types import Ticket


@dataclass(frozen=True)
class LabelledTickets:
    texts: list[str]
    columns: dict[str, list[str | None]]

    def labelled(self, column: str) -> tuple[list[str], list[str]]:
        """The (text, label) pairs that carry a non-empty label in ``column``."""
        pairs = [(t, y) for t, y in zip(self.texts, self.columns[column], strict=True) if y]
        return [t for t, _ in pairs], [str(y) for _, y in pairs]


def join_subject(subject: object, text: object) -> str:
    """The training text of a ticket: what the service's models read of it (``Normaliser.normalise``).

    Every reader (CSV/JSONL, helpdesk exports, agent feedback) builds texts the same way, so one head never
    sees two spellings of the same ticket, and none learns from greetings or quoted replies the service
    takes out before it asks the head.
    """
    body = str(text or "").strip()
    head = str(subject or "").strip() or None
    if not body:
        return head or ""
    return Normaliser.normalise(Ticket(text=body, subject=head)).text


def json_lines(path: Path, raw: str) -> list[Any]:
    """One JSON value per non-blank line; a bad line is refused with its number."""
    items = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput("DATA", f"{path}: line {n} is not valid JSON ({exc.msg})") from exc
    return items


def read_rows(path: Path) -> list[dict[str, object]]:
    suffix = path.suffix.lower()
    try:
        if suffix in {".jsonl", ".ndjson"}:
            rows = json_lines(path, path.read_text(encoding="utf-8"))
            for n, row in enumerate(rows, start=1):
                if not isinstance(row, dict):
                    raise InvalidInput("DATA", f"{path}: line {n} is not a JSON object")
            return rows
        if suffix in {".csv", ".tsv"}:
            with path.open(encoding="utf-8", newline="") as fh:
                return list(csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ","))
    except UnicodeDecodeError as exc:
        raise InvalidInput("DATA", f"{path} is not UTF-8 text") from exc
    raise InvalidInput("DATA", f"{path}: unsupported file type {suffix!r}; use .csv, .tsv or .jsonl")


def read_labelled(
    path: Path, text_column: str, label_columns: list[str], subject_column: str | None = None,
    subject_optional: bool = False,
) -> LabelledTickets:
    """``subject_optional``: a file without ``subject_column`` is read without subjects (set-up's default training
    data may be any export); otherwise a named column that is missing is refused."""
    if not path.is_file():
        raise InvalidInput("DATA", f"{path} does not exist or is not a file")
    rows = read_rows(path)
    if not rows:
        raise InvalidInput("DATA", f"{path} holds no rows")
    present = set(rows[0])
    if subject_optional and subject_column not in present:
        subject_column = None
    for column in [text_column, *label_columns, *([subject_column] if subject_column else [])]:
        if column not in present:
            raise InvalidInput(column, f"no column {column!r} in {path}; columns are {sorted(present)}")
    texts: list[str] = []
    columns: dict[str, list[str | None]] = {c: [] for c in label_columns}
    for row in rows:
        text = join_subject(row.get(subject_column) if subject_column else None, row.get(text_column))
        if not text:
            continue
        texts.append(text)
        for column in label_columns:
            value = row.get(column)
            columns[column].append(str(value).strip() if value not in (None, "") else None)
    if not texts:
        raise InvalidInput(text_column, f"every row of {path} has an empty {text_column!r}")
    return LabelledTickets(texts=texts, columns=columns)
