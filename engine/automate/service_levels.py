"""The service-levels file: per queue first-response target and business hours, validated at start-up.

Kept apart from the routing policy (which says where a ticket goes and when a person must take over) because
it says something else: how soon the desk promises to answer, which a team lead edits on another rhythm
(holidays every year). A typo fails at start-up, not on a ticket's acknowledgement.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.automate.business_hours import WEEKDAYS, Schedule
from engine.errors import InvalidInput
from engine.types import iana_zones

Interval = tuple[time, time | None]


def parse_interval(text: str) -> Interval:
    """'08:00-17:30' → (08:00, 17:30); a close of '24:00' is the end of the day (None)."""
    try:
        opens, closes = (part.strip() for part in text.split("-"))
        begin = time.fromisoformat(opens)
        end = None if closes == "24:00" else time.fromisoformat(closes)
    except ValueError:
        raise ValueError(f"opening hours {text!r}: write them as 'HH:MM-HH:MM', e.g. '08:00-17:30'") from None
    if end is not None and end <= begin:
        raise ValueError(f"opening hours {text!r} close before they open (use '24:00' for midnight)")
    return begin, end


class ScheduleSpec(BaseModel):
    """One named schedule: opening hours per weekday in the helpdesk's time zone, and holidays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    hours: dict[str, list[str]] = Field(description="Weekday (mon..sun) → opening intervals; days left out are closed.")
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in iana_zones():
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin'")
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
        for intervals in value.values():
            parsed = sorted(parse_interval(i) for i in intervals)
            for (_, close), (later_open, _) in zip(parsed, parsed[1:], strict=False):
                if close is None or close > later_open:
                    raise ValueError(f"opening hours {intervals} overlap")
        return value

    def schedule(self) -> Schedule:
        weekly = tuple(tuple(sorted(parse_interval(i) for i in self.hours.get(day, []))) for day in WEEKDAYS)
        return Schedule(ZoneInfo(self.timezone), weekly, frozenset(self.holidays))


class QueueLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response_hours: float = Field(gt=0, le=24 * 30, description="Business hours to the first answer.")
    schedule: str | None = Field(default=None, description="Which schedule counts them; default: the default's.")


class ServiceLevelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schedules: dict[str, ScheduleSpec]
    default: QueueLevel
    queues: dict[str, QueueLevel] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _schedules_exist(self) -> ServiceLevelsFile:
        if self.default.schedule is None:
            raise ValueError("default.schedule must name one of the schedules")
        for name, level in {"default": self.default, **self.queues}.items():
            if level.schedule is not None and level.schedule not in self.schedules:
                raise ValueError(f"{name}: schedule {level.schedule!r} is not one of {sorted(self.schedules)}")
        for name, spec in self.schedules.items():
            if not any(spec.hours.values()):
                raise ValueError(f"schedule {name!r} is never open")
        return self


class ServiceLevels:
    """A queue's first-response target and the schedule it is counted in."""

    def __init__(self, spec: ServiceLevelsFile) -> None:
        schedules = {name: s.schedule() for name, s in spec.schedules.items()}
        default = schedules[spec.default.schedule or ""]  # validated: the default names one
        self._default = (spec.default.first_response_hours, default)
        self._queues = {
            queue: (level.first_response_hours, schedules[level.schedule] if level.schedule else default)
            for queue, level in spec.queues.items()
        }

    def target(self, queue: str) -> tuple[float, Schedule]:
        """The queue's first-response target in business hours, and the schedule they are counted in."""
        return self._queues.get(queue, self._default)

    @property
    def default_zone(self) -> ZoneInfo:
        """The helpdesk's own time zone: the default schedule's."""
        return self._default[1].zone


def load_service_levels(path: Path) -> ServiceLevels:
    if not path.is_file():
        raise InvalidInput("service_levels_file", f"service levels file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ServiceLevels(ServiceLevelsFile.model_validate(raw))
    except (yaml.YAMLError, ValidationError) as exc:
        raise InvalidInput("service_levels_file", f"{path} is not a valid service levels file: {exc}") from exc
