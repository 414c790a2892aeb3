"""Columns the agent console filters and sorts the ticket log by, and the draft's fate in feedback.

tickets.topic, urgency, language, sentiment and risks repeat labels of the stored result JSON in plain
columns: JSON functions differ between SQLite and PostgreSQL (and cannot use an index on text JSON), while a
column filters and sorts alike on both, with an index where a queue view narrows most. ``risks`` holds the risk
kinds space-separated and space-padded (" fraud threat "), so one LIKE finds a kind on both backends. Existing
processed tickets are filled from their stored result.

feedback.draft_action says whether the agent sent or discarded the drafted reply, and draft_edit_distance how
much they changed it before sending (normalised Levenshtein, 0 = sent as drafted); the sent text itself is
never stored.

Revision ID: 0005
Revises: 0004
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 500


def labels(result: dict[str, Any]) -> dict[str, Any]:
    """The console's columns of one stored result (a copy of ``engine.store.tickets.result_columns`` as of
    this revision: a migration must not change when the code does)."""

    def label(name: str) -> Any:
        value = result.get(name)
        return value.get("label") if isinstance(value, dict) else None

    language = result.get("language")
    kinds = sorted({r.get("kind") for r in result.get("risk") or [] if isinstance(r, dict) and r.get("kind")})
    return {
        "topic": label("topic"),
        "urgency": label("urgency"),
        "sentiment": label("sentiment"),
        "language": language.get("code") if isinstance(language, dict) else None,
        "risks": f" {' '.join(kinds)} " if kinds else None,
    }


def upgrade() -> None:
    for name in ("topic", "urgency", "language", "sentiment", "risks"):
        op.add_column("tickets", sa.Column(name, sa.Text))
    op.create_index("tickets_queue", "tickets", ["queue", "received_at"])
    op.create_index("tickets_urgency", "tickets", ["urgency", "received_at"])
    op.create_index("tickets_language", "tickets", ["language", "received_at"])
    op.add_column("feedback", sa.Column("draft_action", sa.Text))  # 'sent' or 'discarded', checked by FeedbackStore
    op.add_column("feedback", sa.Column("draft_edit_distance", sa.Float))
    _fill_labels()


def _fill_labels() -> None:
    """Fill the new columns of every processed ticket from its result, a batch at a time."""
    tickets = sa.table(
        "tickets", sa.column("id", sa.Text), sa.column("result", sa.Text), sa.column("status", sa.Text),
        *(sa.column(name, sa.Text) for name in ("topic", "urgency", "language", "sentiment", "risks")),
    )
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(tickets.c.id, tickets.c.result)
            .where(tickets.c.status == "processed", tickets.c.result.is_not(None), tickets.c.id > last)
            .order_by(tickets.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            try:
                result = json.loads(row.result)
            except ValueError:
                continue
            if isinstance(result, dict):
                updates.append({"tid": row.id, **{f"new_{k}": v for k, v in labels(result).items()}})
        if updates:
            bind.execute(
                sa.update(tickets).where(tickets.c.id == sa.bindparam("tid")).values(
                    **{k: sa.bindparam(f"new_{k}") for k in ("topic", "urgency", "language", "sentiment", "risks")}
                ),
                updates,
            )
        last = rows[-1].id
