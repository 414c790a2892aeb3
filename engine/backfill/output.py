"""The backfill's output: JSON lines appended a batch at a time, and what a restart reads back from it.

Each batch is one ``write`` followed by ``flush`` and ``fsync``: once a batch is reported written it survives
a crash of the process (and of the machine), and a crash during the write can leave only the file's last line
unfinished. A restart drops that torn line (truncating the file to the last newline) and counts every complete
line's ``ticket_id`` as done. A complete line that is not a result of this command means ``--out`` names some
other file: refused, never appended to.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import BinaryIO

from engine.errors import InvalidInput
from engine.privacy.owner_only import FILE_MODE

# Lines start {"row": N, "ticket_id": "..." (driver-written, in that order): read without parsing the rest.
_HEAD = re.compile(rb'^\{"row": \d+, "ticket_id": ("(?:[^"\\]|\\.)*")')


class ResumableOutput:
    """An owner-only JSON-lines file that a backfill appends to; ``done`` holds the ticket ids already in it."""

    def __init__(self, path: Path, resume: bool = True) -> None:
        self.path = path
        self.done: set[str] = set()
        self.dropped_torn_line = False
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists():
            self._read_back()
            flags = os.O_WRONLY | os.O_APPEND
        else:
            flags = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
        fd = os.open(path, flags, FILE_MODE)
        os.chmod(path, FILE_MODE)
        self._fh: BinaryIO = os.fdopen(fd, "ab" if resume else "wb")

    def _read_back(self) -> None:
        """Collect the ids already written; cut a torn last line off the file."""
        if not self.path.is_file():
            raise InvalidInput("--out", f"{self.path} is not a file")
        good_end = 0
        with self.path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.endswith(b"\n"):
                    break  # the write a crash interrupted: the only line that can lack its newline
                if line.strip():
                    self.done.add(_ticket_id(line, self.path, n))
                good_end += len(line)
        if good_end < self.path.stat().st_size:
            os.truncate(self.path, good_end)
            self.dropped_torn_line = True

    def append(self, lines: list[str]) -> None:
        """Write ``lines`` (JSON objects, no newline) as one write, then make them durable before returning."""
        if not lines:
            return
        self._fh.write("".join(f"{line}\n" for line in lines).encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ticket_id(line: bytes, path: Path, n: int) -> str:
    head = _HEAD.match(line)
    try:
        if head:
            return str(json.loads(head.group(1)))
        value = json.loads(line).get("ticket_id")
        if isinstance(value, str):
            return value
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        pass
    raise InvalidInput(
        "--out",
        f"{path} line {n} is not a `sift triage-file` result with a ticket_id; "
        "pass --no-resume to overwrite it, or choose another --out",
    )
