"""Past tickets for `sift backtest`: what to replay, and what a helpdesk recorded of each ticket.

A backtest reads history from three places: a plain file (CSV/TSV/JSONL, columns named by the caller), a
helpdesk export (Zendesk JSON, Freshdesk CSV or API JSON, read by ``engine/training/importers.py`` as `sift
train` reads them) or the service's own ticket log. Each becomes the same ``PastTicket``, so the replay does not
know where its tickets came from.

The *recorded outcome* is what the helpdesk did: the queue and the topic an agent gave the ticket, where the
source says so. For the ticket log that is an agent's topic correction (feedback); a ticket nobody corrected has
no recorded outcome, and counts for automation and deflection but not for the error rate. Dates and channels are
kept as the helpdesk wrote them (a month key and a channel name) and never invented: a source without dates
reports "no dates", not the day it was replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput
from engine.settings import Settings
from engine.training.data import read_rows
from engine.training.importers import read_export
from engine.types import CHANNELS, Ticket

FORMATS = ("auto", "csv", "jsonl", "zendesk", "freshdesk")
NO_DATE = "no date"
UNKNOWN = "unknown"
# What an export calls a channel -> the Ticket channel the pipeline knows (the report keeps the export's name).
CHANNEL_ALIASES = {
    "mail": "email", "outbound email": "email", "voice": "phone", "call": "phone", "portal": "web",
    "web_form": "web", "web_widget": "web", "feedback widget": "web", "forum": "web", "twitter": "social",
    "facebook": "social", "instagram": "social", "mobihelp": "messaging", "mobile_sdk": "messaging",
    "sms": "messaging", "whatsapp": "messaging", "native_messaging": "messaging", "sunshine_conversations": "messaging",
}
# The export's own date and channel fields, used when the caller names none.
EXPORT_DEFAULTS = {
    "zendesk": {"date": ("created_at",), "channel": ("via.channel",)},
    "freshdesk": {"date": ("created_at", "created time"), "channel": ("source",)},
}


@dataclass(frozen=True)
class Columns:
    """Where each field lives: a column (plain files) or a field spec (exports); None where the data has none."""

    text: str | None = None
    subject: str | None = None
    queue: str | None = None
    topic: str | None = None
    language: str | None = None
    date: str | None = None
    channel: str | None = None

    def options(self) -> dict[str, str]:
        """Field name -> the CLI option that names it, for messages."""
        return {name: f"--{name}-column" for name in ("text", "subject", "queue", "topic", "language", "date", "channel")}


@dataclass(frozen=True)
class PastTicket:
    """One ticket to replay and what was recorded of it."""

    ticket: Ticket
    month: str = NO_DATE
    """``YYYY-MM`` of when the helpdesk received it, or ``NO_DATE``."""
    channel: str = UNKNOWN
    """The channel as the source names it (Zendesk ``web``, Freshdesk ``portal``), for grouping."""
    queue: str | None = None
    topic: str | None = None
    language: str | None = None
    """The recorded language; None: the one Sift detects."""


@dataclass(frozen=True)
class History:
    tickets: list[PastTicket]
    source: str
    skipped: int = 0
    """Rows without text: nothing to replay."""
    recorded: tuple[str, ...] = ()
    """Which outcomes the source records: ``queue`` and/or ``topic``."""
    dated: bool = False
    notes: list[str] = field(default_factory=list)


def month_of(value: str | None, option: str, where: str) -> str:
    """``YYYY-MM`` of an ISO 8601 date or time (``2024-03-01``, ``2024-03-01 10:00:00``, ``...T10:00:00Z``)."""
    text = (value or "").strip()
    if not text:
        return NO_DATE
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            option, f"{where}: {text!r} is not a date; use ISO 8601, e.g. 2024-03-01 or 2024-03-01T10:00:00Z"
        ) from None
    return f"{moment.year:04d}-{moment.month:02d}"


def sift_channel(name: str | None) -> str | None:
    """The pipeline's channel for an export's channel name, or None where it has none (``api``, ``closed_ticket``)."""
    key = (name or "").strip().lower()
    key = CHANNEL_ALIASES.get(key, key)
    return key if key in CHANNELS else None


def _clean(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _past(
    text: str, subject: str | None, values: dict[str, str | None], option: dict[str, str], where: str, kb: str | None
) -> PastTicket:
    channel = _clean(values.get("channel"))
    return PastTicket(
        ticket=Ticket(text=text, subject=subject or None, channel=sift_channel(channel), kb=kb),  # type: ignore[arg-type]
        month=month_of(values.get("date"), option.get("date", "date"), where),
        channel=channel.lower() if channel else UNKNOWN,
        queue=_clean(values.get("queue")),
        topic=_clean(values.get("topic")),
        language=_clean(values.get("language")),
    )


def _format_of(path: Path, fmt: str) -> str:
    """``auto`` resolved: csv/jsonl by suffix; a ``.json`` file is a Zendesk or a Freshdesk API export."""
    suffix = path.suffix.lower()
    if fmt in ("csv", "jsonl"):
        allowed = {"csv": {".csv", ".tsv"}, "jsonl": {".jsonl", ".ndjson"}}[fmt]
        if suffix not in allowed:
            raise InvalidInput("--format", f"{fmt} reads {', '.join(sorted(allowed))} files; {path.name} is not one")
        return fmt
    if fmt != "auto":
        return fmt
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        head = path.read_text(encoding="utf-8", errors="replace")[:200_000]
        return "freshdesk" if '"description_text"' in head else "zendesk"
    raise InvalidInput("DATA", f"{path}: cannot tell the format of a {suffix or 'suffix-less'} file; give --format")


def read_file(path: Path, fmt: str, columns: Columns, kb: str | None = None, limit: int | None = None) -> History:
    """Past tickets of a file; a named column the file lacks, an unknown format or an empty file is refused."""
    if fmt not in FORMATS:
        raise InvalidInput("--format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if not path.is_file():
        raise InvalidInput("DATA", f"{path} does not exist or is not a file")
    fmt = _format_of(path, fmt)
    option = columns.options()
    named = {name: value for name, value in vars(columns).items() if value is not None}
    if fmt in ("zendesk", "freshdesk"):
        for name in ("text", "subject"):
            if name in named:
                raise InvalidInput(option[name], f"applies to csv and jsonl files; {fmt} exports name their own text")
        records = read_export(path, fmt, named, EXPORT_DEFAULTS[fmt])
        n = len(records.texts) if limit is None else min(limit, len(records.texts))
        tickets = [
            _past(records.texts[i], None, {k: v[i] for k, v in records.fields.items()}, option, f"ticket {i + 1}", kb)
            for i in range(n)
        ]
        found = set(records.fields)
        skipped = records.skipped
    else:
        rows = read_rows(path)
        if not rows:
            raise InvalidInput("DATA", f"{path} holds no rows")
        text_column = columns.text or "text"
        named["text"] = text_column
        header = sorted({key for row in rows[:1000] for key in row})
        for name, column in named.items():
            if column not in rows[0]:
                raise InvalidInput(option[name], f"no column {column!r} in {path}; columns are {header}")
        kept = [(n, r) for n, r in enumerate(rows, start=1) if _clean(r.get(text_column))]
        kept = kept if limit is None else kept[:limit]
        tickets = [
            _past(
                str(r[text_column]).strip(), _clean(r.get(columns.subject)) if columns.subject else None,
                {name: _clean(r.get(column)) for name, column in named.items()}, option, f"row {n}", kb,
            )
            for n, r in kept
        ]
        found = set(named)
        skipped = sum(1 for r in rows if not _clean(r.get(text_column)))
    if not tickets:
        raise InvalidInput("DATA", f"no ticket in {path} has any text to replay")
    return History(
        tickets, path.name, skipped, tuple(o for o in ("queue", "topic") if o in found),
        dated=any(t.month != NO_DATE for t in tickets),
    )


def _logged_ticket(payload: dict[str, Any]) -> Ticket:
    """The ticket as it was accepted (masked as the log keeps it), received now: a replay is not a late answer."""
    from pydantic import TypeAdapter

    kept = {k: v for k, v in payload.items() if k != "received_at"}
    return TypeAdapter(Ticket).validate_python(kept)


def read_log(settings: Settings, since: str | None = None, limit: int | None = None) -> History:
    """The service's ticket log (the latest ``limit`` tickets), each with its newest topic correction, if any."""
    from engine.report.gap_run import logged_tickets
    from engine.store import FeedbackStore
    from engine.training.feedback import latest_corrections

    logged = logged_tickets(settings, since)
    if limit is not None:
        logged = logged[-limit:] if limit else []
    if not logged:
        raise InvalidInput("--from-log", f"the ticket log ({settings.database_path.name}) holds no processed tickets")
    feedback = FeedbackStore(settings.database)
    try:
        corrected = {c.ticket_id: c.labels.get("topic") for c in latest_corrections(feedback.records())}
    finally:
        feedback.close()
    tickets = []
    for row in logged:
        ticket = _logged_ticket(row.payload)
        tickets.append(
            PastTicket(
                ticket=ticket,
                month=month_of(row.received_at, "received_at", f"ticket {row.id}"),
                channel=ticket.channel or UNKNOWN,
                topic=corrected.get(row.id),
            )
        )
    notes = [] if any(t.topic for t in tickets) else [
        "no agent corrected a topic of these tickets (feedback): the error rate has nothing to compare against"
    ]
    return History(tickets, "ticket log", 0, ("topic",), dated=True, notes=notes)


def describe(history: History) -> dict[str, Any]:
    """What the report says of its source."""
    return {
        "source": history.source,
        "tickets": len(history.tickets),
        "skipped_without_text": history.skipped,
        "recorded_outcomes": list(history.recorded),
        "dated": history.dated,
        "notes": history.notes,
    }

