"""The data directory's secret key: customer ids are stored as keyed hashes, never in clear.

A plain hash of a customer id (often an e-mail address or a short number) is
reversed by hashing candidates; an HMAC with a key that lives only in the data
directory is not. `sift forget --customer ID` hashes the id the same way to find
the rows. Deleting the key makes the stored hashes unlinkable to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from engine.errors import SiftError
from engine.privacy.owner_only import private_dir, secret_file

KEY_FILE = "customer-id.key"
KEY_BYTES = 32


def data_key(data_dir: Path) -> bytes:
    """The key in ``data_dir`` (made 0600 on first use)."""
    path = private_dir(data_dir) / KEY_FILE
    key = secret_file(path, KEY_BYTES)
    if len(key) != KEY_BYTES:
        raise SiftError(f"{path} is not a {KEY_BYTES}-byte key; restore it from a backup (customer ids hash with it)")
    return key


def customer_key(customer_id: str, key: bytes) -> str:
    """The stored form of a customer id: HMAC-SHA256, hex."""
    return hmac.new(key, customer_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
