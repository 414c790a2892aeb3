"""Every acknowledgement sentence rendered in every language, with CLDR dates in the customer's locale."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.automate.acknowledge import (
    KEYS,
    acknowledgement,
    available_languages,
    babel_locale,
    catalog,
    pick_language,
    when,
)

ZAGREB = ZoneInfo("Europe/Zagreb")
DUE = datetime(2026, 12, 8, 14, 0, tzinfo=ZAGREB)  # a Tuesday
REOPENS = datetime(2026, 12, 7, 8, 0, tzinfo=ZAGREB)  # a Monday
# The weekday and month of DUE and REOPENS as each language writes them (CLDR), and its time-zone name.
WORDS = {
    "en": ("Tuesday", "Monday", "December", "Central European Standard Time"),
    "de": ("Dienstag", "Montag", "Dezember", "Mitteleuropäische Normalzeit"),
    "es": ("martes", "lunes", "diciembre", "hora estándar de Europa central"),
    "fr": ("mardi", "lundi", "décembre", "heure normale d’Europe centrale"),
    "hr": ("utorak", "ponedjeljak", "prosinca", "srednjoeuropsko standardno vrijeme"),
}


def test_the_required_languages_are_there_and_complete() -> None:
    assert {"en", "de", "es", "fr", "hr"} <= set(available_languages())
    for language in available_languages():
        assert set(catalog(language)) == KEYS, language


@pytest.mark.parametrize("language", available_languages())
@pytest.mark.parametrize("out_of_hours", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
def test_every_sentence_renders_in_every_language(language: str, out_of_hours: bool, named: bool) -> None:
    ack = acknowledgement(
        language=language,
        locale=babel_locale(language, None),
        first_name="Ivana" if named else None,
        order="12345" if named else None,
        due=DUE,
        reopens=REOPENS if out_of_hours else None,
        agent="Lumio Support",
    )
    c = catalog(language)
    weekday_due, weekday_back, month, zone = WORDS[language]
    greeting = c["greeting"].format(name="Ivana") if named else c["greeting_anonymous"]
    assert ack.text.startswith(greeting + "\n\n")
    hour = "2:00\u202fPM" if language == "en" else "14:00"  # CLDR's English (US) clock, everyone else's 24-hour
    assert weekday_due in ack.text and month in ack.text and zone in ack.text and hour in ack.text
    assert ("12345" in ack.text) is named
    assert ack.text.endswith("Lumio Support")
    assert "{" not in ack.text and "}" not in ack.text
    if out_of_hours:
        assert ack.out_of_hours_notice is not None and weekday_back in ack.out_of_hours_notice
        assert ack.out_of_hours_notice in ack.text
    else:
        assert ack.out_of_hours_notice is None and weekday_back not in ack.text


def test_the_customers_locale_writes_the_date_its_way() -> None:
    us = when(DUE, "en", babel_locale("en", "en-US"))
    gb = when(DUE, "en", babel_locale("en", "en-GB"))
    assert "December 8, 2026" in us and "2:00\u202fPM" in us
    assert "8 December 2026" in gb and "14:00" in gb


def test_a_locale_in_another_language_or_unknown_to_cldr_falls_back_to_the_language() -> None:
    assert str(babel_locale("de", "en-US")) == "de"
    assert str(babel_locale("hr", "hr-XK")) == "hr"


def test_summer_time_is_named_as_such() -> None:
    assert "Central European Summer Time" in when(datetime(2027, 7, 1, 9, 0, tzinfo=ZAGREB), "en", babel_locale("en", None))


def test_language_falls_back_from_the_customers_to_the_agents_to_english() -> None:
    assert pick_language("de", "en") == "de"
    assert pick_language("nl", "hr") == "hr"
    assert pick_language("und", "it") == "en"
