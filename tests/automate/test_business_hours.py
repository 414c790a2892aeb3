"""Business-hours arithmetic across weekends, holidays, time zones and the days the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.automate.business_hours import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WORKDAY = ((time(8), time(18)),)
OFFICE = Schedule(BERLIN, (WORKDAY,) * 4 + (((time(8), time(17)),),) + ((), ()))
ALWAYS = Schedule(BERLIN, (((time(0), None),),) * 7)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_hours_within_one_working_day() -> None:
    assert OFFICE.add(berlin(2026, 12, 7, 9, 0), 4) == berlin(2026, 12, 7, 13, 0)


def test_a_friday_afternoon_target_runs_over_the_weekend() -> None:
    # Friday closes at 17:00: half an hour is left, the other 7.5 hours start on Monday at 08:00.
    assert OFFICE.add(berlin(2026, 12, 4, 16, 30), 8) == berlin(2026, 12, 7, 15, 30)


def test_a_target_received_on_a_saturday_starts_on_monday() -> None:
    saturday = berlin(2026, 12, 5, 11, 0)
    assert not OFFICE.is_open(saturday)
    assert OFFICE.next_open(saturday) == berlin(2026, 12, 7, 8, 0)
    assert OFFICE.add(saturday, 2) == berlin(2026, 12, 7, 10, 0)


def test_a_target_that_ends_at_closing_time_is_due_then() -> None:
    assert OFFICE.add(berlin(2026, 12, 7, 8, 0), 10) == berlin(2026, 12, 7, 18, 0)
    assert OFFICE.add(berlin(2026, 12, 7, 8, 0), 10.5) == berlin(2026, 12, 8, 8, 30)


def test_holidays_are_closed() -> None:
    christmas = Schedule(BERLIN, OFFICE.weekly, frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    # Wednesday the 23rd at 17:00: one hour that day, then Thursday and Friday are holidays.
    assert christmas.add(berlin(2026, 12, 23, 17, 0), 3) == berlin(2026, 12, 28, 10, 0)
    assert christmas.next_open(berlin(2026, 12, 24, 10, 0)) == berlin(2026, 12, 28, 8, 0)


def test_start_in_another_time_zone_counts_in_the_desks() -> None:
    # 09:00 in New York is 15:00 in Berlin: three hours are left on Monday, one more on Tuesday.
    start = datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
    due = OFFICE.add(start, 4)
    assert due == berlin(2026, 12, 8, 9, 0)
    assert due.astimezone(NEW_YORK) == datetime(2026, 12, 8, 3, 0, tzinfo=NEW_YORK)


def test_open_hours_are_wall_clock_hours_across_the_change_to_summer_time() -> None:
    # Berlin moves its clocks forward on Sunday 28 March 2027: Friday 16:00 + 3h is still Monday 10:00 local,
    # though the UTC offset changed in between.
    due = OFFICE.add(berlin(2027, 3, 26, 16, 0), 3)
    assert due == berlin(2027, 3, 29, 10, 0)
    assert due.utcoffset() != berlin(2027, 3, 26, 16, 0).utcoffset()


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2027, 3, 28), 23), (date(2027, 10, 31), 25), (date(2027, 6, 6), 24)],
    ids=["spring-forward", "fall-back", "summer"],
)
def test_a_round_the_clock_day_holds_the_hours_the_clock_gives_it(day: date, hours: int) -> None:
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert ALWAYS.add(midnight, hours) == next_midnight
    assert ALWAYS.add(midnight, 1) == midnight.astimezone(UTC) + timedelta(hours=1)


def test_is_open_at_the_edges() -> None:
    assert OFFICE.is_open(berlin(2026, 12, 7, 8, 0))
    assert not OFFICE.is_open(berlin(2026, 12, 7, 18, 0))
    assert not OFFICE.is_open(berlin(2026, 12, 7, 7, 59))
    assert OFFICE.next_open(berlin(2026, 12, 7, 19, 0)) == berlin(2026, 12, 8, 8, 0)


def test_a_schedule_that_never_opens_is_refused() -> None:
    with pytest.raises(ValueError, match="open on some day"):
        Schedule(BERLIN, ((),) * 7)


def test_holidays_covering_every_day_end_the_search() -> None:
    start = date(2026, 12, 7)
    every_day = frozenset(start + timedelta(days=n) for n in range(4 * 366))
    with pytest.raises(ValueError, match="no opening hours"):
        Schedule(BERLIN, OFFICE.weekly, every_day).add(berlin(2026, 12, 7, 9, 0), 1)
