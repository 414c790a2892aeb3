"""Business-hours arithmetic: when a target of N working hours falls due, whether the desk is open, when it opens.

Opening hours are wall-clock times in the helpdesk's time zone, so each day's intervals are placed in that zone
first and only then compared in UTC: an hour of a day when the clocks change is a real hour, an interval that
spans the change is one hour shorter or longer, and a weekend or holiday counts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366
"""How far ahead a schedule is searched: past it a holiday list closes every day (refused when loaded)."""


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule of opening intervals in one time zone, less holidays.

    ``weekly[i]`` holds the (open, close) wall-clock intervals of weekday ``i`` (Monday 0); a close of ``None``
    means midnight at the end of the day.
    """

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[time, time | None], ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("a weekly schedule has seven days")
        if not any(self.weekly):
            raise ValueError("a schedule must be open on some day of the week")

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening intervals in UTC that end after ``start``, in order, from its local day on."""
        day = start.astimezone(self.zone).date()
        for offset in range(MAX_DAYS):
            current = day + timedelta(days=offset)
            if current in self.holidays:
                continue
            for opens, closes in self.weekly[current.weekday()]:
                begin = self._utc(current, opens)
                end = self._utc(current + timedelta(days=1), time(0)) if closes is None else self._utc(current, closes)
                if end > start:
                    yield max(begin, start), end
        raise ValueError(f"no opening hours within {MAX_DAYS} days of {start.isoformat()}")

    def _utc(self, day: date, at: time) -> datetime:
        # fold=0: a wall time that occurs twice (clocks back) means its first occurrence; one the clocks skip
        # (clocks forward) maps to the hour after the gap, as zoneinfo resolves it.
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def is_open(self, at: datetime) -> bool:
        begin, _ = next(self.intervals(at))
        return begin <= at

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else when the desk next opens (UTC)."""
        begin, _ = next(self.intervals(at))
        return begin

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment (UTC) ``hours`` of opening time after ``start`` have passed."""
        left = timedelta(hours=hours)
        intervals = self.intervals(start)
        while True:
            begin, end = next(intervals)  # raises past MAX_DAYS
            if end - begin >= left:
                return begin + left
            left -= end - begin
