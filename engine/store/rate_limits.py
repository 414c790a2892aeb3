"""Each API key's request budget, kept in the database so every worker and replica spends the same one.

A budget counted in each process let a key make N times its requests a minute across N workers or replicas.
The rule is a token bucket (``rate_limit_per_minute`` requests a minute, in bursts of as many) written as GCRA:
one row per key holds the theoretical arrival time of its next request, and a request is admitted when that time
is less than a full burst ahead of now. One row read and written in one transaction (the row locked on
PostgreSQL, the database on SQLite), so two workers never both spend the last token. Clocks of replicas must
agree to well within a second (NTP), as for ticket claims.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.store.db import Location, open_database
from engine.store.schema import rate_limits


class RateLimits:
    def __init__(self, location: Location) -> None:
        """``location``: the server's database (``Settings.keys_database``), where the keys are."""
        self._db = open_database(location)

    def take(self, key_id: str, per_minute: int, now: float | None = None) -> float:
        """0 when ``key_id`` may make a request now (and it is counted), else the seconds until it may."""
        interval = 60.0 / per_minute
        burst = (per_minute - 1) * interval
        now = time.time() if now is None else now
        dialect = sqlite if self._db.is_sqlite else postgresql
        c = rate_limits.c
        with self._db.write() as db:
            db.execute(dialect.insert(rate_limits).values(key_id=key_id, tat=now).on_conflict_do_nothing())
            stored = db.execute(select(c.tat).where(c.key_id == key_id).with_for_update()).scalar_one()
            due = max(float(stored), now)
            if due - now > burst:
                return due - now - burst
            db.execute(update(rate_limits).where(c.key_id == key_id).values(tat=due + interval))
        return 0.0

    def close(self) -> None:
        self._db.close()
