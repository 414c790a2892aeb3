"""The ticket log as Sift kept it before Alembic: tickets, feedback and api_keys.

Creates only what is missing, so a data directory made by an older Sift (tables, no ``alembic_version``)
upgrades in place; a ticket log from before customer ids gains its ``customer_key`` column here.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column(
            "status", sa.Text, sa.CheckConstraint("status IN ('accepted', 'processed', 'failed')"), nullable=False
        ),
        sa.Column("result", sa.Text),
        sa.Column("queue", sa.Text),
        sa.Column("handoff", sa.Integer),
        sa.Column("processed_at", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("customer_key", sa.Text),
        if_not_exists=True,
    )
    if "customer_key" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("tickets")}:
        op.add_column("tickets", sa.Column("customer_key", sa.Text))
    op.create_index("tickets_received", "tickets", ["received_at"], if_not_exists=True)
    op.create_index("tickets_status", "tickets", ["status"], if_not_exists=True)
    op.create_index(
        "tickets_customer",
        "tickets",
        ["customer_key"],
        sqlite_where=sa.text("customer_key IS NOT NULL"),
        postgresql_where=sa.text("customer_key IS NOT NULL"),
        if_not_exists=True,
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("agent_id", sa.Text),
        sa.Column("topic", sa.Text),
        sa.Column(
            "urgency",
            sa.Text,
            sa.CheckConstraint("urgency IS NULL OR urgency IN ('low', 'normal', 'high', 'urgent')"),
        ),
        sa.Column("handoff", sa.Integer),
        sa.Column("article_id", sa.Text),
        sa.Column("article_helped", sa.Integer),
        sa.Column("draft_helped", sa.Integer),
        sa.Column("comment", sa.Text),
        if_not_exists=True,
    )
    op.create_index("feedback_ticket", "feedback", ["ticket_id", "created_at"], if_not_exists=True)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
        if_not_exists=True,
    )
