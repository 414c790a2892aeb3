"""Exactly once: the helpdesk's ticket id, unique per source, and claims on tickets being triaged.

``source``/``external_id`` make a retried ticket find its first copy instead of being logged twice;
``request_hash`` tells a retry from a different ticket sent under the same id. ``claimed_by``/``claimed_at``/
``attempts`` let a restarted process (or another replica) take over tickets a dead one left ``accepted``,
each exactly once. Existing rows have no external id and no claim: an ``accepted`` one left by a crash before
this release is recovered like any other.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("source", "external_id", "request_hash", "claimed_by", "claimed_at"):
        op.add_column("tickets", sa.Column(name, sa.Text))
    op.add_column("tickets", sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.create_index(
        "tickets_external",
        "tickets",
        ["source", "external_id"],
        unique=True,
        sqlite_where=sa.text("external_id IS NOT NULL"),
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
