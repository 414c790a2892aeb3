"""Exactly once in the ticket log, on both backends: an external id is stored once per source, a retry finds
its first copy, a clash stores nothing, and recovery claims each orphaned ticket exactly once, even with
claimers racing (two stores, two connection pools, as two replicas would)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.store import TicketStore
from engine.store.claims import MAX_ATTEMPTS, ExternalKey, IdClash, new_owner
from engine.store.db import Location, utc_now
from tests.store.conftest import execute

LIVE = "0000"  # no claim is older than this: every claim is live
DEAD = "9999"  # every claim is older than this: every claimant is dead
RESULT = {"id": "x", "route": {"queue": "billing"}, "handoff": {"required": False}}


@pytest.fixture
def store(location: Location) -> Iterator[TicketStore]:
    s = TicketStore(location)
    yield s
    s.close()


def _key(external_id: str, content: str = "same", source: str = "zendesk") -> ExternalKey:
    return ExternalKey(source, external_id, f"hash-of-{content}")


def _admit(store: TicketStore, *keys: ExternalKey | None, owner: str = "me", stale_before: str = LIVE) -> list:
    return store.claims.admit([{"text": "t"} for _ in keys], [None] * len(keys), list(keys), owner, stale_before)


def test_a_retry_finds_the_first_copy_and_gets_its_stored_result(store: TicketStore) -> None:
    [first] = _admit(store, _key("T-1"))
    assert first.state == "new"
    [again] = _admit(store, _key("T-1"))
    assert (again.id, again.state) == (first.id, "busy")  # accepted, its claim live: someone is triaging it
    assert store.complete([(first.id, RESULT)]) == 1
    [replay] = _admit(store, _key("T-1"))
    assert (replay.id, replay.state, replay.result) == (first.id, "processed", RESULT)
    assert store.count() == 1


def test_different_content_under_a_used_id_is_refused_and_nothing_is_stored(store: TicketStore) -> None:
    [first] = _admit(store, _key("T-1"))
    with pytest.raises(IdClash) as clash:
        _admit(store, _key("T-2"), _key("T-1", content="other"))
    assert (clash.value.index, clash.value.ticket_id) == (1, first.id)
    assert store.count() == 1  # T-2 was rolled back with the clash


def test_ids_are_unique_per_source_and_tickets_without_one_are_always_stored(store: TicketStore) -> None:
    a, b, c, d = _admit(store, _key("7", source="zendesk"), _key("7", source="freshdesk"), None, None)
    assert len({a.id, b.id, c.id, d.id}) == 4 and {a.state, b.state, c.state, d.state} == {"new"}
    assert store.claims.lookup("freshdesk", "7") == b.id and store.claims.lookup("other", "7") is None


def test_an_unfinished_copy_is_resumed_once_its_claim_is_stale_or_it_failed(store: TicketStore) -> None:
    [dead] = _admit(store, _key("T-1"), owner="dead")
    [resumed] = _admit(store, _key("T-1"), stale_before=DEAD)
    assert (resumed.id, resumed.state) == (dead.id, "resumed")
    row = store.get(dead.id)
    assert row is not None and row["status"] == "accepted" and row["attempts"] == 2
    store.fail([dead.id], "RuntimeError: the encoder fell over")
    [again] = _admit(store, _key("T-1"))
    assert again.state == "resumed" and store.get(dead.id)["error"] is None  # type: ignore[index]


def test_a_processed_result_is_never_overwritten(store: TicketStore) -> None:
    [ticket] = _admit(store, _key("T-1"))
    assert store.complete([(ticket.id, RESULT)]) == 1
    assert store.complete([(ticket.id, {**RESULT, "id": "late"})]) == 0
    store.fail([ticket.id], "late failure")
    row = store.get(ticket.id)
    assert row is not None and row["status"] == "processed" and row["result"] == RESULT


def test_racing_retries_of_one_ticket_store_it_once(location: Location) -> None:
    stores = [TicketStore(location) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            admitted = list(pool.map(lambda s: _admit(s, _key("T-1"), owner=s.owner)[0], stores))
    finally:
        for s in stores:
            s.close()
    assert len({a.id for a in admitted}) == 1
    assert sorted(a.state for a in admitted) == ["busy", "busy", "busy", "new"]
    assert execute(location, "SELECT count(*) FROM tickets") == [(1,)]


def test_recovery_claims_each_orphan_exactly_once_across_racing_replicas(location: Location) -> None:
    first = TicketStore(location)
    orphans = first.accept([{"text": f"ticket {i}"} for i in range(60)])
    first.close()  # the process that accepted them is gone
    time.sleep(0.01)
    stale_before = utc_now()  # its claims are older; the replicas' own claims are not
    replicas = [TicketStore(location) for _ in range(3)]
    claimed: list[list[str]] = [[] for _ in replicas]
    start = threading.Barrier(len(replicas))

    def sweep(n: int) -> None:
        start.wait()
        while batch := replicas[n].claims.claim_orphans(replicas[n].owner, stale_before, 7)[0]:
            claimed[n].extend(o.id for o in batch)
            replicas[n].complete([(o.id, RESULT) for o in batch])

    try:
        with ThreadPoolExecutor(len(replicas)) as pool:
            list(pool.map(sweep, range(len(replicas))))
    finally:
        for s in replicas:
            s.close()
    every = [tid for ids in claimed for tid in ids]
    assert sorted(every) == sorted(orphans)  # all of them, none twice
    assert execute(location, "SELECT status, attempts, count(*) FROM tickets GROUP BY status, attempts") == [
        ("processed", 2, 60)
    ]


def test_live_claims_are_left_alone_and_renewal_keeps_them_live(store: TicketStore) -> None:
    [ticket] = store.accept([{"text": "being triaged"}])
    assert store.claims.claim_orphans(new_owner(), LIVE, 10) == ([], 0)
    stale = "2001-01-01T00:00:00.000+00:00"
    with store._db.write() as db:  # noqa: SLF001 - the claim aged from outside, as a frozen process's would be
        db.exec_driver_sql("UPDATE tickets SET claimed_at = '2000-01-01T00:00:00.000+00:00'")
    assert store.claims.renew(store.owner) == 1  # the owner is alive: its claim starts again
    assert store.claims.claim_orphans(new_owner(), stale, 10) == ([], 0)
    assert store.claims.renew("someone else") == 0
    [orphan], _ = store.claims.claim_orphans("me", DEAD, 10)
    assert orphan.id == ticket and orphan.payload == {"text": "being triaged"}


def test_a_ticket_that_kills_its_process_every_time_is_given_up(store: TicketStore) -> None:
    [ticket] = store.accept([{"text": "poison"}])  # attempt 1
    for _ in range(MAX_ATTEMPTS - 1):  # each claimant dies before completing it
        assert [o.id for o in store.claims.claim_orphans(new_owner(), DEAD, 10)[0]] == [ticket]
    assert store.claims.claim_orphans(new_owner(), DEAD, 10) == ([], 1)
    row = store.get(ticket)
    assert row is not None and row["status"] == "failed" and "abandoned" in row["error"]
