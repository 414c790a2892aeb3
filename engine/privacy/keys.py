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

from engine.privacy.files import FILE_MODE, private_dir

KEY_FILE = "customer-id.key"


def data_key(data_dir: Path) -> bytes:
    """The key in ``data_dir`` (made 0600 on first use)."""
    path = private_dir(data_dir) / KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
    return path.read_bytes()


def customer_key(customer_id: str, key: bytes) -> str:
    """The stored form of a customer id: HMAC-SHA256, hex."""
    return hmac.new(key, customer_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
