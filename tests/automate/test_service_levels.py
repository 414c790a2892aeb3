"""The service-levels file: the shipped one loads, and every kind of mistake stops start-up with where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.automate.service_levels import load_service_levels, parse_interval
from engine.errors import InvalidInput
from engine.settings import Settings

GOOD = {
    "schedules": {
        "office": {"timezone": "Europe/Zagreb", "hours": {"mon": ["08:00-12:00", "13:00-17:00"]}},
        "always": {"timezone": "UTC", "hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
    },
    "default": {"first_response_hours": 8, "schedule": "office"},
    "queues": {"escalations": {"first_response_hours": 1, "schedule": "always"}, "billing": {"first_response_hours": 4}},
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "levels.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_file_covers_every_routed_queue() -> None:
    settings = Settings()
    levels = load_service_levels(settings.service_levels_file)
    assert levels.default_zone.key == "Europe/Berlin"
    hours, schedule = levels.target("escalations")
    assert hours == 2 and all(schedule.weekly)  # open every day
    routing = yaml.safe_load(settings.routing_file.read_text(encoding="utf-8"))
    routed = set(routing["queues"].values()) | set(routing["urgency_queues"].values())
    routed |= {r["queue"] for r in routing["risk"].values() if r and "queue" in r}
    listed = set(yaml.safe_load(settings.service_levels_file.read_text(encoding="utf-8"))["queues"])
    assert routed <= listed, sorted(routed - listed)


def test_queues_inherit_the_default_schedule(tmp_path: Path) -> None:
    levels = load_service_levels(write(tmp_path, GOOD))
    billing_hours, billing = levels.target("billing")
    unknown_hours, unknown = levels.target("no-such-queue")
    assert (billing_hours, unknown_hours) == (4, 8)
    assert billing is unknown and billing.zone.key == "Europe/Zagreb"
    assert len(billing.weekly[0]) == 2 and billing.weekly[1] == ()
    assert levels.target("escalations")[1].zone.key == "UTC"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["schedules"]["office"].update(timezone="Europe/Zagrebb"), "IANA time zone"),
        (lambda d: d["schedules"]["office"]["hours"].update(monday=["08:00-12:00"]), "unknown weekday"),
        (lambda d: d["schedules"]["office"]["hours"].update(tue=["9-5"]), "HH:MM-HH:MM"),
        (lambda d: d["schedules"]["office"]["hours"].update(tue=["17:00-08:00"]), "close before they open"),
        (lambda d: d["schedules"]["office"]["hours"].update(tue=["08:00-13:00", "12:00-17:00"]), "overlap"),
        (lambda d: d["schedules"]["office"].update(hours={}), "never open"),
        (lambda d: d["queues"]["billing"].update(schedule="weekend"), "not one of"),
        (lambda d: d["queues"]["billing"].update(first_response_hours=0), "greater than 0"),
        (lambda d: d["default"].pop("schedule"), "default.schedule"),
        (lambda d: d.update(sla=1), "Extra inputs"),
    ],
    ids=["zone", "weekday", "format", "reversed", "overlap", "closed", "schedule", "zero", "no-default", "unknown-key"],
)
def test_mistakes_are_refused(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    change(data)
    with pytest.raises(InvalidInput, match=message) as caught:
        load_service_levels(write(tmp_path, data))
    assert caught.value.field == "service_levels_file"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_service_levels(tmp_path / "absent.yaml")


def test_midnight_closes_the_day() -> None:
    assert parse_interval("00:00-24:00")[1] is None
