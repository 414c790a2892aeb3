"""feedback.seq: the order feedback was given in, kept by both backends.

Exports and training list feedback oldest first; two given in the same millisecond were told apart by
SQLite's rowid, which PostgreSQL lacks. Existing rows take their rowid (SQLite) or their place by time and
id (PostgreSQL).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("seq", sa.BigInteger))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE feedback SET seq = rowid")
    else:
        op.execute(
            "UPDATE feedback SET seq = ordered.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n "
            "FROM feedback) AS ordered WHERE feedback.id = ordered.id"
        )
    op.create_index("feedback_seq", "feedback", ["seq"])
