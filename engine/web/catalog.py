"""The help widget's and help centre's own words in the 16 languages Sift drafts and acknowledges in.

One JSON file (``catalog.json``) serves both sides: the pages render from it here, and ``/widget.js`` carries it
to the browser, so a visitor never sees a string the server does not know. A language outside the catalog falls
back to English; Norwegian Bokmål and Nynorsk (``nb``, ``nn``) read ``no`` like the language detector reports it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CATALOG = Path(__file__).parent / "catalog.json"
DEFAULT = "en"
ALIASES = {"nb": "no", "nn": "no"}
# Each language's own name, as the language selector shows it (a visitor looks for their language's name in it).
ENDONYMS = {
    "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano", "pt": "Português",
    "nl": "Nederlands", "sv": "Svenska", "da": "Dansk", "no": "Norsk", "pl": "Polski", "cs": "Čeština",
    "hr": "Hrvatski", "bs": "Bosanski", "sr": "Srpski", "sl": "Slovenščina",
}


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every language's strings (read once)."""
    data: dict[str, Any] = json.loads(CATALOG.read_text(encoding="utf-8"))
    return {code: strings for code, strings in data.items() if not code.startswith("_")}


def languages() -> list[str]:
    return list(catalog())


def supported(tag: str | None) -> str | None:
    """The catalog language a BCP 47 tag or ISO code names (``hr-HR`` → ``hr``, ``nb`` → ``no``); None if none."""
    if not tag:
        return None
    code = tag.strip().split("-")[0].split("_")[0].lower()
    code = ALIASES.get(code, code)
    return code if code in catalog() else None


def negotiate(asked: str | None, accept_language: str | None) -> str:
    """The page's language: the one asked for (``?lang=``) if the catalog has it, else the browser's first it has
    (``Accept-Language`` by its q-values), else English."""
    found = supported(asked)
    if found:
        return found
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        found = supported(tag)
        if found:
            return found
    return DEFAULT


def strings(language: str) -> dict[str, str]:
    """The strings of ``language`` (a catalog code), English for any other."""
    return catalog().get(language, catalog()[DEFAULT])
