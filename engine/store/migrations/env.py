"""Alembic's entry point: runs the revisions on the connection ``engine.store.migrate`` opened.

That connection is already inside the write transaction (and, on PostgreSQL, holds the advisory lock), so
the revisions commit or roll back together with the version stamp.
"""

from alembic import context

from engine.store.schema import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
