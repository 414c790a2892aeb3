"""rate_limits: each API key's request budget, shared by every worker and replica (engine/store/rate_limits.py).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("tat", sa.Float, nullable=False),
    )
