"""Which time zone a customer reads times in: their own when given, their locale's region when it has one clock.

A promise like "by Monday 10:00" is wrong by hours if shown in the helpdesk's zone to a customer in another.
A region counts as one clock when every zone CLDR lists for it keeps the same UTC offsets in January and July
(Germany's Berlin and Büsingen do; Spain's Madrid and Canaries do not): only then is the guess safe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.core import get_global

from engine.types import iana_zones

_PROBES = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))


def region(locale: str | None) -> str | None:
    """The region subtag of a BCP 47 tag ('hr-HR' → 'HR', 'zh-Hant-TW' → 'TW'), if it has one."""
    for part in (locale or "").replace("_", "-").split("-")[1:]:
        if len(part) == 2 and part.isalpha():
            return part.upper()
    return None


@cache
def region_zone(code: str) -> str | None:
    """The region's time zone when all its zones keep one clock, else None."""
    zones = [z for z in get_global("territory_zones").get(code, []) if z in iana_zones()]
    if not zones:
        return None
    clocks = {tuple(probe.astimezone(ZoneInfo(z)).utcoffset() for probe in _PROBES) for z in zones}
    return zones[0] if len(clocks) == 1 else None


def customer_zone(timezone: str | None, locale: str | None, helpdesk: ZoneInfo) -> ZoneInfo:
    """The ticket's own zone, else its locale region's unambiguous one, else the helpdesk's."""
    if timezone:
        return ZoneInfo(timezone)
    code = region(locale)
    guessed = region_zone(code) if code else None
    return ZoneInfo(guessed) if guessed else helpdesk
