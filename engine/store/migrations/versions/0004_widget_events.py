"""widget_events: what the customer help widget and the help centre saw visitors do, for deflection figures.

One row per search shown, article opened, "did this help?" answer and contact form sent; no query text, no
message, no address: only kinds, languages, article ids and a random per-visit id.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_events",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column(
            "kind",
            sa.Text,
            sa.CheckConstraint("kind IN ('search', 'open', 'helped', 'not_helped', 'contact')"),
            nullable=False,
        ),
        sa.Column("session", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("kb", sa.Text),
        sa.Column("article_id", sa.Text),
        sa.Column("results", sa.Integer),
        sa.Column("handoff", sa.Integer),
        sa.Column("origin", sa.Text),
    )
    op.create_index("widget_events_created", "widget_events", ["created_at"])
    op.create_index("widget_events_session", "widget_events", ["session"])
