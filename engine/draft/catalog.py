"""The reviewed message catalogs drafts are written from, one YAML file per language.

A slot holds one string or a list of reviewed variants. The variant is picked from a hash of the ticket (its id
and text), one hash per slot: the same ticket always gets the same draft, while two customers asking the same
thing get different wording, so replies do not read as form letters.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOG_DIR = Path(__file__).parent / "catalogs"
FALLBACK_LANGUAGE = "en"


@cache
def load_catalog(folder: Path, language: str) -> dict[str, Any]:
    """``folder``'s catalog of ``language``, read once, or ``{}`` when none ships for it: adding a language is
    adding a file (the drafts' catalogs here, the acknowledgements' in ``engine/automate``)."""
    path = folder / f"{language}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def catalog_languages(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def catalog(language: str) -> dict[str, Any]:
    return load_catalog(CATALOG_DIR, language)


def available_languages() -> list[str]:
    return catalog_languages(CATALOG_DIR)


def seed(*parts: str) -> str:
    """What variants are picked by: stable across processes (``hash()`` is salted per process)."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def pick(slot: str | list[str], ticket_seed: str, slot_name: str) -> str:
    """One variant of a slot for this ticket; each slot hashes on its own, so slots vary independently."""
    if isinstance(slot, str):
        return slot
    return slot[int(seed(ticket_seed, slot_name), 16) % len(slot)]
