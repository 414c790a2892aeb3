"""Tenants: each API key acts for one tenant, whose KBs, heads, policy, ticket log and feedback it reaches.

Keys made before tenants existed act for the default tenant, which is what they reached then.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("tenant", sa.Text, nullable=False, server_default=sa.text("'default'")))

