"""Every acknowledgement sentence rendered in every language, with CLDR dates in the customer's locale."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time

from engine.automate.acknowledge import (
    KEYS,
    OPTIONAL_KEYS,
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
# The weekday and month of DUE and REOPENS as each language writes them (CLDR), and its time-zone name, checked
# by hand; a language missing here is still rendered and checked, only without these words.
WORDS = {
    "en": ("Tuesday", "Monday", "December", "Central European Standard Time"),
    "de": ("Dienstag", "Montag", "Dezember", "Mitteleuropäische Normalzeit"),
    "es": ("martes", "lunes", "diciembre", "hora estándar de Europa central"),
    "fr": ("mardi", "lundi", "décembre", "heure normale d’Europe centrale"),
    "hr": ("utorak", "ponedjeljak", "prosinca", "srednjoeuropsko standardno vrijeme"),
    "it": ("martedì", "lunedì", "dicembre", "Ora standard dell’Europa centrale"),
    "pt": ("terça-feira", "segunda-feira", "dezembro", "Hora padrão da Europa Central"),
    "nl": ("dinsdag", "maandag", "december", "Midden-Europese standaardtijd"),
    "sv": ("tisdag", "måndag", "december", "centraleuropeisk normaltid"),
    "da": ("tirsdag", "mandag", "december", "Centraleuropæisk normaltid"),
    "no": ("tirsdag", "mandag", "desember", "normaltid for Sentral-Europa"),
    "pl": ("wtorek", "poniedziałek", "grudnia", "czas środkowoeuropejski standardowy"),
    "cs": ("úterý", "pondělí", "prosince", "středoevropský standardní čas"),
    "bs": ("utorak", "ponedjeljak", "decembar", "Centralnoevropsko standardno vrijeme"),
    "sr": ("utorak", "ponedeljak", "decembar", "Srednjeevropsko standardno vreme"),
    "sl": ("torek", "ponedeljek", "december", "Srednjeevropski standardni čas"),
}


def test_the_required_languages_are_there_and_complete() -> None:
    assert set(WORDS) <= set(available_languages())
    for language in available_languages():
        assert KEYS <= set(catalog(language)) <= KEYS | OPTIONAL_KEYS, language


@pytest.mark.parametrize("language", available_languages())
@pytest.mark.parametrize("out_of_hours", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
def test_every_sentence_renders_in_every_language(language: str, out_of_hours: bool, named: bool) -> None:
    ack = acknowledgement(
        language=language,
        locale=babel_locale(language, None),
        greeting="Dobar dan Ivana," if named else "Dobar dan,",
        order="12345" if named else None,
        due=DUE,
        reopens=REOPENS if out_of_hours else None,
        agent="Lumio Support",
    )
    weekday_due, weekday_back, month, zone = WORDS.get(language, ("", "", "", ""))
    assert ack.text.startswith(("Dobar dan Ivana," if named else "Dobar dan,") + "\n\n")
    hour = {"en": "2:00\u202fPM", "da": "14.00"}.get(language, "14:00")  # CLDR's clocks: US English 12-hour
    if language not in WORDS:
        hour = format_time(DUE, "short", locale=babel_locale(language, None))
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


def test_the_catalogs_script_and_variant_win_over_cldrs_defaults() -> None:
    """Serbian is written in Latin script here, though CLDR's Serbian is Cyrillic, even for a sr-RS customer."""
    assert "utorak" in when(DUE, "sr", babel_locale("sr", None))
    assert "utorak" in when(DUE, "sr", babel_locale("sr", "sr-RS"))
    assert "utorak" in when(DUE, "sr", babel_locale("sr", "sr-Cyrl-RS"))
    assert str(babel_locale("pt", None)) == "pt_PT" and str(babel_locale("pt", "pt-BR")) == "pt_BR"


def test_summer_time_is_named_as_such() -> None:
    assert "Central European Summer Time" in when(datetime(2027, 7, 1, 9, 0, tzinfo=ZAGREB), "en", babel_locale("en", None))


def test_language_falls_back_from_the_customers_to_the_agents_to_english() -> None:
    assert pick_language("de", "en") == "de"
    assert pick_language("fi", "hr") == "hr"  # no Finnish catalog
    assert pick_language("und", "tr") == "en"
