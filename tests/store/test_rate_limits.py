"""A key's request budget in the database: a burst of a minute's requests, then one every 60/N seconds, and the
same budget whichever worker or replica (each with its own store on the one database) takes from it."""

from __future__ import annotations

from engine.store.db import Location
from engine.store.rate_limits import RateLimits


def test_a_burst_then_the_steady_rate(location: Location) -> None:
    budgets = RateLimits(location)
    try:
        start = 1_000_000.0
        assert [budgets.take("k1", 3, start) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert budgets.take("k1", 3, start) == 20.0  # one request every 20 s once the burst is spent
        assert budgets.take("k1", 3, start + 20.0) == 0.0
        assert budgets.take("k1", 3, start + 21.0) == 19.0
        assert budgets.take("k2", 3, start) == 0.0  # each key its own budget
        assert [budgets.take("k1", 3, start + 200.0) for _ in range(3)] == [0.0, 0.0, 0.0]  # refilled, not beyond
        assert budgets.take("k1", 3, start + 200.0) > 0
    finally:
        budgets.close()


def test_workers_share_one_budget(location: Location) -> None:
    workers = [RateLimits(location), RateLimits(location)]
    try:
        now = 2_000_000.0
        taken = [workers[i % 2].take("shared", 4, now) for i in range(6)]
        assert taken[:4] == [0.0] * 4 and all(wait > 0 for wait in taken[4:])
    finally:
        for worker in workers:
            worker.close()
