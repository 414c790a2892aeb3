"""Schema migrations: Alembic revisions in ``engine/store/migrations``, applied when a database is opened.

Every process that opens the ticket log (``sift serve``, the CLI commands, the tests) brings it to the newest
revision first, so an operator never runs a separate step before starting a new release; ``sift db upgrade``
and ``sift db current`` do it and show it explicitly. A data directory made before Alembic has tables but no
``alembic_version``: the first revision creates only what is missing, so it upgrades in place. All revisions
run in one transaction; on PostgreSQL under an advisory lock, so replicas starting together migrate once.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text

from engine.errors import SiftError

if TYPE_CHECKING:
    from engine.store.db import Database

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock's key for "migrating Sift's schema" (any constant other tools are unlikely to use).
ADVISORY_LOCK_KEY = 0x5_1F7_DB


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this version of Sift knows."""
    revision = _scripts().get_current_head()
    if revision is None:
        raise SiftError(f"no schema migrations in {MIGRATIONS_DIR}: the installation is incomplete")
    return revision


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current(database: Database) -> str | None:
    """The database's revision; ``None`` before the first migration (empty, or made before Alembic)."""
    with database.read() as conn:
        return _revision(conn)


def upgrade(database: Database) -> str | None:
    """Apply the revisions the database lacks; the revision it was at, or ``head()`` when nothing was to do.

    Refuses a database written by a newer Sift (a revision this one does not know): rolling the code back
    must not run old queries on a schema they do not describe.
    """
    target = head()
    if current(database) == target:
        return target
    with database.write() as conn:
        if not database.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        before = _revision(conn)  # again, under the lock: another replica may have migrated meanwhile
        if before is not None and not _known(before):
            raise SiftError(f"the ticket log is at schema revision {before!r}, newer than this Sift's {target!r}: "
                            "run the release that wrote it (or a newer one)")
        if before != target:
            command.upgrade(_config(conn), "head")
            log.info("ticket log schema upgraded from %s to %s", before or "none", target)
    return before
