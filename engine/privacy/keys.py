"""The data directory's secret key: customer ids are stored as keyed hashes, never in clear.

A plain hash of a customer id (often an e-mail address or a short number) is
reversed by hashing candidates; an HMAC with a key that lives only in the data
directory is not. `sift forget --customer ID` hashes the id the same way to find
the rows. Deleting the key makes the stored hashes unlinkable to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from engine.errors import SiftError
from engine.privacy.owner_only import FILE_MODE, private_dir

KEY_FILE = "customer-id.key"
KEY_BYTES = 32


def data_key(data_dir: Path) -> bytes:
    """The key in ``data_dir`` (made 0600 on first use)."""
    path = private_dir(data_dir) / KEY_FILE
    if not path.exists():
        # Written in full under a temporary name, then linked into place: a process starting beside this one
        # reads either no key or the whole key, never an empty file (whose hashes would match nothing later).
        # Named per call, not per process: two threads of one process may both find no key yet.
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SiftError(f"{path} is not a {KEY_BYTES}-byte key; restore it from a backup (customer ids hash with it)")
    return key


def customer_key(customer_id: str, key: bytes) -> str:
    """The stored form of a customer id: HMAC-SHA256, hex."""
    return hmac.new(key, customer_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
