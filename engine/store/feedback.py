"""Agents' corrections of triage results, kept beside the ticket log they judge.

A helpdesk trusts a classifier it can correct. Every correction is stored with
who made it and when, never overwritten: training takes the newest correction
per ticket, and the export keeps the whole history for audits. The table lives
in the ticket log's database so a correction can be checked against, and
joined with, the ticket it is about.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select

from engine.errors import InvalidInput
from engine.input_text import clean_string
from engine.store.db import Location, open_database, utc_now
from engine.store.schema import feedback as feedback_table
from engine.store.schema import tickets
from engine.types import URGENCY_LEVELS

log = logging.getLogger(__name__)

# What makes a feedback worth storing: a correction or a rating. A comment alone is not.
JUDGEMENTS = ("topic", "urgency", "handoff", "article_helped", "draft_helped", "draft_action")
DRAFT_ACTIONS = ("sent", "discarded")
_COLUMNS = (
    "id", "ticket_id", "created_at", "agent_id", "topic", "urgency", "handoff",
    "article_id", "article_helped", "draft_helped", "comment", "draft_action", "draft_edit_distance",
)


def _clean(value: str | None, field: str) -> str | None:
    return clean_string(value, field).strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class Feedback:
    """One agent's verdict on one triaged ticket; ``None`` means "not judged".

    ``topic``, ``urgency`` and ``handoff`` are what the result should have said;
    ``article_helped`` rates the suggested article ``article_id``; ``draft_helped``
    rates the drafted reply. ``draft_action`` says whether the agent sent the draft
    or discarded it, and ``draft_edit_distance`` how much they changed it before
    sending (normalised Levenshtein: 0 sent as drafted, 1 nothing kept).
    """

    ticket_id: str
    agent_id: str | None = None
    topic: str | None = None
    urgency: str | None = None
    handoff: bool | None = None
    article_id: str | None = None
    article_helped: bool | None = None
    draft_helped: bool | None = None
    comment: str | None = None
    draft_action: str | None = None
    draft_edit_distance: float | None = None

    def __post_init__(self) -> None:
        for name in ("ticket_id", "agent_id", "topic", "article_id", "comment"):
            object.__setattr__(self, name, _clean(getattr(self, name), name))
        if self.comment == "":
            object.__setattr__(self, "comment", None)
        if not self.ticket_id:
            raise InvalidInput("ticket_id", "must name a ticket")
        for name in ("agent_id", "topic", "article_id"):
            if getattr(self, name) == "":
                raise InvalidInput(name, "must contain non-whitespace characters when given")
        if self.urgency is not None and self.urgency not in URGENCY_LEVELS:
            raise InvalidInput("urgency", f"must be one of {', '.join(URGENCY_LEVELS)}; got {self.urgency!r}")
        if (self.article_id is None) != (self.article_helped is None):
            missing = "article_helped" if self.article_helped is None else "article_id"
            raise InvalidInput(missing, "article_id and article_helped come together: which article, and did it help")
        if self.draft_action is not None and self.draft_action not in DRAFT_ACTIONS:
            raise InvalidInput("draft_action", f"must be one of {', '.join(DRAFT_ACTIONS)}; got {self.draft_action!r}")
        if self.draft_edit_distance is not None:
            if self.draft_action != "sent":
                raise InvalidInput("draft_edit_distance", "only a sent draft has an edit distance")
            if not 0.0 <= self.draft_edit_distance <= 1.0:
                raise InvalidInput("draft_edit_distance", f"must lie in [0, 1]; got {self.draft_edit_distance}")
        if all(getattr(self, name) is None for name in JUDGEMENTS):
            raise InvalidInput(
                "body", f"corrects or rates nothing; give at least one of {', '.join(JUDGEMENTS)}"
            )


@dataclass(frozen=True)
class FeedbackRecord:
    """A stored feedback with its ticket's text and what the pipeline answered for it."""

    id: str
    created_at: str
    feedback: Feedback
    text: str
    subject: str | None
    predicted: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """One flat export row: the correction, the ticket, and the prediction it corrects."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            **{f.name: getattr(self.feedback, f.name) for f in fields(Feedback)},
            "text": self.text,
            "subject": self.subject,
            "predicted": self.predicted,
        }


@dataclass(frozen=True)
class FeedbackPage:
    """One page of stored feedback rows as they are in the table, newest first, and how many match in all."""

    rows: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class DraftEdits:
    """How drafted replies fared with agents: the figures the eval report and the console show.

    ``sent_unedited_share`` and ``discard_share`` are shares of every decided draft; ``mean_edit_distance`` is
    over sent drafts whose distance was recorded (``None`` when there are none).
    """

    decided: int
    sent: int
    sent_unedited: int
    discarded: int
    mean_edit_distance: float | None

    @classmethod
    def of(cls, decisions: list[tuple[str, float | None]]) -> DraftEdits:
        distances = [d for action, d in decisions if action == "sent" and d is not None]
        return cls(
            decided=len(decisions),
            sent=sum(action == "sent" for action, _ in decisions),
            sent_unedited=sum(d == 0 for d in distances),
            discarded=sum(action == "discarded" for action, _ in decisions),
            mean_edit_distance=round(sum(distances) / len(distances), 4) if distances else None,
        )

    @property
    def sent_unedited_share(self) -> float | None:
        return round(self.sent_unedited / self.decided, 4) if self.decided else None

    @property
    def discard_share(self) -> float | None:
        return round(self.discarded / self.decided, 4) if self.decided else None

    def to_json(self) -> dict[str, Any]:
        return {
            "decided": self.decided, "sent": self.sent, "sent_unedited": self.sent_unedited,
            "discarded": self.discarded, "sent_unedited_share": self.sent_unedited_share,
            "mean_edit_distance": self.mean_edit_distance, "discard_share": self.discard_share,
        }


def utc_text(moment: datetime, field: str) -> str:
    """``moment`` as the table's timestamps are written (ISO-8601 UTC, milliseconds), so text comparison orders it;
    a moment without a zone is taken as UTC."""
    try:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError) as exc:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
        raise InvalidInput(field, f"{moment.isoformat()} is out of range in UTC") from exc


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _predicted(result: dict[str, Any] | None) -> dict[str, Any]:
    """The labels the pipeline gave, so an export shows what each correction corrected."""
    if not result:
        return {"topic": None, "urgency": None, "handoff": None, "articles": []}
    return {
        "topic": (result.get("topic") or {}).get("label"),
        "urgency": (result.get("urgency") or {}).get("label"),
        "handoff": (result.get("handoff") or {}).get("required"),
        "articles": [a.get("id") for a in result.get("articles") or []],
    }


class FeedbackStore:
    """The ``feedback`` table, in the ticket log's database so a correction is checked against its ticket."""

    def __init__(self, location: Location) -> None:
        """``location``: the SQLite file (``Settings.database_path``) or a PostgreSQL URL (``Settings.database``)."""
        self._db = open_database(location)

    def record(self, feedback: Feedback) -> FeedbackRecord:
        """Store one feedback; refuse an unknown ticket or an article the ticket was not shown."""
        feedback_id = uuid.uuid4().hex
        now = utc_now()
        with self._db.write() as db:
            row = db.execute(
                select(tickets.c.payload, tickets.c.result).where(tickets.c.id == feedback.ticket_id)
            ).first()
            if row is None:
                raise InvalidInput("ticket_id", f"no ticket {feedback.ticket_id!r} in the ticket log")
            payload, result = json.loads(row.payload), json.loads(row.result) if row.result else None
            predicted = _predicted(result)
            if feedback.article_id is not None and result and feedback.article_id not in predicted["articles"]:
                shown = ", ".join(predicted["articles"]) or "none"
                raise InvalidInput(
                    "article_id", f"{feedback.article_id!r} was not suggested for this ticket; suggested: {shown}"
                )
            # One more than the newest: unique on SQLite (one writer at a time); two PostgreSQL replicas writing
            # in the same instant may share a number, and those two are then ordered by id.
            seq = select(func.coalesce(func.max(feedback_table.c.seq), 0) + 1).scalar_subquery()
            db.execute(
                insert(feedback_table).values(
                    id=feedback_id, ticket_id=feedback.ticket_id, created_at=now, agent_id=feedback.agent_id,
                    topic=feedback.topic, urgency=feedback.urgency, handoff=_int(feedback.handoff),
                    article_id=feedback.article_id, article_helped=_int(feedback.article_helped),
                    draft_helped=_int(feedback.draft_helped), comment=feedback.comment, seq=seq,
                    draft_action=feedback.draft_action, draft_edit_distance=feedback.draft_edit_distance,
                )
            )
        return FeedbackRecord(
            feedback_id, now, feedback, str(payload.get("text") or ""), payload.get("subject"), predicted
        )

    def get(self, feedback_id: str) -> FeedbackRecord | None:
        rows, _ = self._select(feedback_table.c.id == feedback_id)
        return rows[0] if rows else None

    def for_ticket(self, ticket_id: str) -> list[FeedbackRecord]:
        """Every readable feedback on one ticket, oldest first."""
        return self._select(feedback_table.c.ticket_id == ticket_id)[0]

    def records(self) -> list[FeedbackRecord]:
        """Every readable feedback, oldest first (ties in insertion order), joined with its ticket; a row that
        no longer validates is left out with a warning in the log (``readable`` says which and why)."""
        records, unreadable = self.readable()
        for problem in unreadable:
            log.warning("feedback left out: %s", problem)
        return records

    def readable(self) -> tuple[list[FeedbackRecord], list[str]]:
        """Every feedback that still validates, oldest first, and why each other row does not.

        Rows are validated as they are read: a row written by hand, by an older Sift or through a bug must not
        stop an export or a training run, only be named so an operator can delete it (`sift feedback delete`).
        """
        return self._select(None)

    def page(
        self, ticket_id: str | None = None, since: datetime | None = None, limit: int = 50, offset: int = 0
    ) -> FeedbackPage:
        """Stored rows as they are (unvalidated, so a bad row can be found and deleted), newest first."""
        f = feedback_table.c
        conditions: list[ColumnElement[bool]] = []
        if ticket_id is not None:
            conditions.append(f.ticket_id == ticket_id)
        if since is not None:
            conditions.append(f.created_at >= utc_text(since, "since"))
        query = select(*(f[name] for name in _COLUMNS)).where(*conditions)
        query = query.order_by(f.created_at.desc(), f.seq.desc(), f.id.desc()).limit(limit).offset(offset)
        with self._db.read() as db:
            rows = db.execute(query).all()
            total = int(db.execute(select(func.count()).select_from(feedback_table).where(*conditions)).scalar_one())
        return FeedbackPage([self._row(tuple(row)) for row in rows], total)

    def draft_edits(self) -> DraftEdits:
        """What agents did with the drafted replies: each ticket's newest send or discard counts once."""
        f = feedback_table.c
        query = (
            select(f.ticket_id, f.draft_action, f.draft_edit_distance)
            .where(f.draft_action.is_not(None))
            .order_by(f.created_at, f.seq, f.id)
        )
        with self._db.read() as db:
            latest = {row.ticket_id: (row.draft_action, row.draft_edit_distance) for row in db.execute(query)}
        return DraftEdits.of(list(latest.values()))

    def delete(self, feedback_id: str) -> bool:
        """Delete one feedback; whether it existed. The ticket and its other feedback stay."""
        with self._db.write() as db:
            return bool(db.execute(delete(feedback_table).where(feedback_table.c.id == feedback_id)).rowcount)

    def count(self) -> int:
        with self._db.read() as db:
            return int(db.execute(select(func.count()).select_from(feedback_table)).scalar_one())

    def write_problem(self) -> str | None:
        """``None`` when this store can write now, else why not (``/readyz``)."""
        return self._db.write_problem()

    def _select(self, where: ColumnElement[bool] | None) -> tuple[list[FeedbackRecord], list[str]]:
        f = feedback_table.c
        query = (
            select(*(f[name] for name in _COLUMNS), tickets.c.payload, tickets.c.result)
            .join_from(feedback_table, tickets, tickets.c.id == f.ticket_id)
            .order_by(f.created_at, f.seq, f.id)
        )
        if where is not None:
            query = query.where(where)
        with self._db.read() as db:
            rows = db.execute(query).all()
        records, unreadable = [], []
        for row in rows:
            try:
                records.append(self._record(tuple(row)))
            except (InvalidInput, ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
                unreadable.append(f"feedback {row.id} on ticket {row.ticket_id}: {exc}")
        return records, unreadable

    @staticmethod
    def _row(row: tuple[Any, ...]) -> dict[str, Any]:
        values = dict(zip(_COLUMNS, row, strict=True))
        for name in ("handoff", "article_helped", "draft_helped"):
            values[name] = _bool(values[name])
        return values

    @staticmethod
    def _record(row: tuple[Any, ...]) -> FeedbackRecord:
        (fid, ticket_id, created_at, agent_id, topic, urgency, handoff, article_id, article_helped, draft_helped,
         comment, draft_action, draft_edit_distance, payload_json, result_json) = row
        payload = json.loads(payload_json)
        feedback = Feedback(
            ticket_id=ticket_id, agent_id=agent_id, topic=topic, urgency=urgency, handoff=_bool(handoff),
            article_id=article_id, article_helped=_bool(article_helped), draft_helped=_bool(draft_helped),
            comment=comment, draft_action=draft_action, draft_edit_distance=draft_edit_distance,
        )
        result = json.loads(result_json) if result_json else None
        return FeedbackRecord(
            fid, created_at, feedback, str(payload.get("text") or ""), payload.get("subject"), _predicted(result)
        )

    def close(self) -> None:
        self._db.close()
