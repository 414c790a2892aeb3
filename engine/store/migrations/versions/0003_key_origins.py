"""api_keys.origins: the websites whose pages may use a suggest-only key (the help widget's CORS).

Existing keys get none: no web page may use them from a browser, as none could read an answer before (the API
sent no CORS headers).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("origins", sa.Text))
