"""Owner-only files and folders for everything that holds customers' text (ticket log, reports, exports).

A helpdesk host often has other users and services; a world-readable ticket log
or report hands them every customer's messages. Folders Sift creates for such
data are 0700, files 0600, whatever the process's umask.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TextIO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make ``path`` itself owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing and make it owner-only (its contents are left alone).

    An existing file is only chmod-ed, never opened: closing any descriptor of a SQLite file drops every
    POSIX lock this process holds on it, and another connection of the process would then write unlocked
    (seen here as "database disk image is malformed").
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` owner-only, atomically: a failure leaves the old file, never half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_private(path: Path) -> TextIO:
    """``path`` opened for writing text, created (or truncated) owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    os.chmod(path, FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8")


def secret_file(path: Path, size: int) -> bytes:
    """The ``size`` random bytes in ``path``, created owner-only on first use (its folder made private too).

    Written in full under a temporary name, then linked into place: a process or thread starting beside this
    one reads either no secret or the whole one, never an empty file. Named per call, not per process: two
    threads of one process may both find no secret yet. The caller checks the length it reads back.
    """
    if not path.exists():
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    return path.read_bytes()
