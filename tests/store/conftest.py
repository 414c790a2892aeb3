"""The store tests run on both backends: a SQLite file per test, and a database per test on a throwaway PostgreSQL.

The server is started once per session from Debian's postgresql-15 binaries (``SIFT_TEST_PG_BIN`` names
another directory) in a temporary directory, listening only on a Unix socket there, with durability off
(fsync) since it is thrown away. PostgreSQL refuses to run as root, so as root initdb and the server run as
``nobody``; the directory is made under /tmp rather than pytest's root-only temp dir so that user can reach it.
The PostgreSQL cases are marked slow (about half a second each, mostly the migrations on a new database)
and skipped, saying why, when the binaries or that user are missing.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from engine.store.db import Location

PG_BIN = Path(os.environ.get("SIFT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "sift"
_names = itertools.count()


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://{PG_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self) -> str:
        """A new, empty database on the server: its URL."""
        name = f"sift_test_{next(_names)}"
        engine = create_engine(self.url("postgres").replace("postgresql://", "postgresql+psycopg://"),
                               isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
        finally:
            engine.dispose()
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> dict[str, Any]:
    """subprocess arguments that run the server's programs as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return {}
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root, PostgreSQL refuses root, and there is no 'nobody' user to run it as")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / name).is_file()]
    if missing:
        pytest.skip(f"no PostgreSQL server binaries ({', '.join(missing)}) in {PG_BIN}: install Debian's "
                    "postgresql-15 or point SIFT_TEST_PG_BIN at them")
    as_user = _runner()
    base = Path(tempfile.mkdtemp(prefix="sift-pg-"))
    if as_user:
        os.chown(base, as_user["user"], as_user["group"])
    data, port = base / "data", _free_port()

    def run(*args: str | Path) -> None:
        done = subprocess.run(args, cwd=base, capture_output=True, text=True, timeout=60, check=False, **as_user)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    try:
        run(PG_BIN / "initdb", "-D", data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {base} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        run(PG_BIN / "pg_ctl", "-D", data, "-l", base / "server.log", "-o", options, "-w", "start")
        try:
            yield PostgresServer(base, port)
        finally:
            run(PG_BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """Where a test's stores live: a fresh SQLite file, or a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "sift.db"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


def execute(location: Location, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run SQL on a store's database from outside the stores (another connection), committing it."""
    url = (f"sqlite:///{location}" if isinstance(location, Path)
           else location.replace("postgresql://", "postgresql+psycopg://"))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()
