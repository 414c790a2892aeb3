"""The auto-acknowledgement: a reviewed sentence per language, with dates and times in the customer's locale.

The sentences are catalogs (YAML per language, like the draft's) so a translator reviews them as text; the
dates, times and time-zone names come from CLDR through babel, because "Montag, 7. Dezember 2026 um 09:00 Uhr
(Mitteleuropäische Normalzeit)" is not something a format string per language gets right for every locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name

from engine.draft.catalog import catalog_languages, load_catalog

CATALOG_DIR = Path(__file__).parent / "catalogs"
FALLBACK_LANGUAGE = "en"
KEYS = frozenset({"received", "about_order", "out_of_hours", "when", "sign_off"})
OPTIONAL_KEYS = frozenset({"locale"})
"""``locale``: the CLDR locale the catalog's sentences are written for, where the language's default is not
(``sr-Latn``: CLDR writes Serbian in Cyrillic; ``pt-PT``: CLDR's Portuguese is Brazil's)."""


def catalog(language: str) -> dict[str, str]:
    return load_catalog(CATALOG_DIR, language)


def available_languages() -> list[str]:
    return catalog_languages(CATALOG_DIR)


def pick_language(*preferred: str) -> str:
    """The first of the preferred languages with a catalog (the customer's, then the agents'), else English."""
    return next((code for code in preferred if catalog(code)), FALLBACK_LANGUAGE)


def babel_locale(language: str, locale: str | None) -> Locale:
    """The ticket's locale when it is in the catalog's language (en-GB writes dates unlike en-US), else the
    catalog's own. The catalog's script wins over the ticket's: a Latin-script sentence must not get a Cyrillic
    date because the customer's locale is sr-RS."""
    own = Locale.parse(str(catalog(language).get("locale", language)), sep="-")
    if locale and locale.replace("_", "-").split("-")[0].lower() == language:
        try:
            parsed = Locale.parse(locale.replace("_", "-"), sep="-")
            if own.script and parsed.script != own.script:
                parsed = Locale(parsed.language, territory=parsed.territory, script=own.script)
            return parsed
        except (UnknownLocaleError, ValueError):
            pass  # a well-formed tag CLDR does not know: the catalog's own formats still apply
    return own


def when(at: datetime, language: str, locale: Locale) -> str:
    """A moment as the customer reads it: full date, short time and the zone's long name, in ``at``'s zone."""
    return catalog(language)["when"].format(
        date=format_date(at, "full", locale=locale),
        time=format_time(at, "short", locale=locale),
        zone=get_timezone_name(at, "long", locale=locale),
    )


@dataclass(frozen=True)
class Acknowledgement:
    text: str
    out_of_hours_notice: str | None


def acknowledgement(
    *,
    language: str,
    locale: Locale,
    greeting: str,
    order: str | None,
    due: datetime,
    reopens: datetime | None,
    agent: str,
) -> Acknowledgement:
    """The auto-reply; ``due`` and ``reopens`` (None while the desk is open) already in the customer's zone.

    ``greeting``: the line a draft in the same language would open with (engine/draft/salutation.py), so that
    "Guten Tag Erika Mustermann," stands above the acknowledgement's "Sie" as it stands above the draft's."""
    c = catalog(language)
    notice = c["out_of_hours"].format(opens=when(reopens, language, locale)) if reopens is not None else None
    parts = [
        greeting,
        c["received"].format(about=c["about_order"].format(order=order) if order else "", due=when(due, language, locale)),
        *([notice] if notice else []),
        c["sign_off"].format(agent=agent),
    ]
    return Acknowledgement("\n\n".join(parts), notice)
