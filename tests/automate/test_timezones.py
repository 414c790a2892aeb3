"""The customer's time zone: their own, else their locale region's when it has one clock, else the desk's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.automate.timezones import customer_zone, region, region_zone

DESK = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("hr-HR", "HR"), ("zh-Hant-TW", "TW"), ("en_GB", "GB"), ("es-419", None), ("de", None), (None, None)],
)
def test_region_subtag(locale: str | None, expected: str | None) -> None:
    assert region(locale) == expected


def test_a_region_with_one_clock_gives_its_zone() -> None:
    assert region_zone("HR") == "Europe/Zagreb"
    assert region_zone("DE") == "Europe/Berlin"  # Büsingen keeps Berlin's clock


@pytest.mark.parametrize("code", ["US", "ES", "AU", "BR"])
def test_a_region_with_several_clocks_gives_none(code: str) -> None:
    assert region_zone(code) is None  # Spain: the Canaries are an hour behind Madrid


def test_the_tickets_own_zone_wins() -> None:
    assert customer_zone("America/Chicago", "hr-HR", DESK).key == "America/Chicago"


def test_locale_region_then_the_desks_zone() -> None:
    assert customer_zone(None, "en-GB", DESK).key == "Europe/London"
    assert customer_zone(None, "en-US", DESK) is DESK
    assert customer_zone(None, "fr", DESK) is DESK
    assert customer_zone(None, None, DESK) is DESK
