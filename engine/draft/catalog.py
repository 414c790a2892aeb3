"""The reviewed message catalogs drafts are written from, one YAML file per language.

A slot holds one string or a list of reviewed variants. The variant is picked from a hash of the ticket (its id
and text), one hash per slot: the same ticket always gets the same draft, while two customers asking the same
thing get different wording, so replies do not read as form letters.

Where a language distinguishes a polite from a familiar "you" (Sie/du, vous/tu, usted/tú), the catalog is
written in the polite one, which a helpdesk writing to strangers owes them, and may carry an
``informal_address`` block: the slots that change when a helpdesk addresses its customers familiarly (the
``informal_address`` setting, per knowledge base). The block replaces whole slots, so every sentence of a draft
is in one register, greeting, body and sign-off alike.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOG_DIR = Path(__file__).parent / "catalogs"
FALLBACK_LANGUAGE = "en"
INFORMAL = "informal_address"
"""The catalog block of familiar-register slots; not a slot itself."""


@cache
def load_catalog(folder: Path, language: str) -> dict[str, Any]:
    """``folder``'s catalog of ``language``, read once, or ``{}`` when none ships for it: adding a language is
    adding a file (the drafts' catalogs here, the acknowledgements' in ``engine/automate``)."""
    path = folder / f"{language}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def catalog_languages(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


@cache
def catalog(language: str, informal: bool = False) -> dict[str, Any]:
    """The draft catalog of ``language`` (``{}`` when none ships), in the familiar register when ``informal``
    and the language has one; a language without a T/V choice (English) or without the block is the same in both.
    """
    raw = load_catalog(CATALOG_DIR, language)
    polite = {k: v for k, v in raw.items() if k != INFORMAL}
    return _overlay(polite, raw[INFORMAL]) if informal and INFORMAL in raw else polite


def has_informal_address(language: str) -> bool:
    """Whether ``language``'s catalog can address a customer familiarly (du, tu, tú)."""
    return INFORMAL in load_catalog(CATALOG_DIR, language)


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s slots in place of its own; dictionaries merge key by key, a slot is replaced whole
    (a list of variants is never mixed across registers)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _overlay(base[key], value) if isinstance(value, dict) else value
    return out


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
