"""Fixtures the API tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from engine.settings import Settings
from engine.store.keys import KeyStore
from engine.store.schema import api_keys


@pytest.fixture
def keys(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyStore]:
    """The session's key table; emptied after, so other tests see an open API again."""
    monkeypatch.setattr("engine.api.auth.REFRESH_SECONDS", 0.0)
    store = KeyStore(settings.database_path)
    yield store
    with store._db.write() as db:  # noqa: SLF001 - no command deletes keys (revoked ones stay for the audit trail)
        db.execute(delete(api_keys))
    store.close()
