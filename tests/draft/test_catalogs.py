"""Every catalog string in every language renders with realistic values: no missing key, no stray placeholder."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from engine.draft.catalog import available_languages, catalog

LANGUAGES = available_languages()
# Issue #22's languages; Norwegian Bokmål ships as no.yaml because the language detector reports nb and nn as no.
REQUIRED_LANGUAGES = {"en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "pl", "cs", "hr", "bs", "sr", "sl"}
TOPICS = {"delivery", "billing", "returns", "account", "technical", "privacy"}
TONES = {"negative", "neutral", "positive"}
# The placeholders each slot may use; the ones it must use are in REQUIRED. A greeting may leave the name out:
# Polish, Czech, Bosnian and Serbian would need its vocative, Scandinavian helpdesks greet by full name.
ALLOWED = {
    "team": {"brand"},
    "salutation.formal.ms": {"title", "last", "full"},
    "salutation.formal.mr": {"title", "last", "full"},
    "salutation.formal.mx": {"full"},
    "salutation.informal": {"first"},
    "salutation.chat": {"first"},
    "about.order": {"order"},
    "about.product": {"product"},
    "acknowledge": {"about"},
    "citation": {"title", "ref"},
    "chat_citation": {"ref"},
    "sign_off": {"team"},
}
REQUIRED = {slot: ALLOWED[slot] for slot in ("team", "about.order", "about.product", "acknowledge", "citation",
                                       "chat_citation", "sign_off")}
VALUES = {
    "brand": "Lumio",
    "title": "Dr. ",
    "last": "Mustermann",
    "first": "Erika",
    "full": "Erika Mustermann",
    "order": "A-10023",
    "product": "Lumio Hub",
    "about": " regarding your order A-10023",
    "ref": "https://help.lumio.example/articles/delivery-where-is-my-order#track-your-parcel",
    "team": "Ihr Lumio-Support",
}


SENTENCE_END = re.compile(r"(?<=[.!?…:])\s+")  # as tests/draft/test_grounding.py splits a line


def leaves(node: Any, path: str = "") -> dict[str, str]:
    """Every string of a catalog by dotted path (a list's variants as path.0, path.1, ...)."""
    if isinstance(node, str):
        return {path: node}
    if isinstance(node, list):
        assert node, f"{path}: a slot needs at least one variant"
        return {k: v for i, item in enumerate(node) for k, v in leaves(item, f"{path}.{i}").items()}
    assert isinstance(node, dict), f"{path}: {node!r}"
    return {k: v for key, item in node.items() for k, v in leaves(item, f"{path}.{key}" if path else key).items()}


def slot(path: str) -> str:
    """The ALLOWED key of a leaf: its path without variant numbers, tones or topics."""
    parts = [p for p in path.split(".") if not p.isdigit() and p not in TONES]
    return ".".join(parts[:1] if parts[0] in ("acknowledge", "closing") else parts)


def structure(node: Any) -> Any:
    """The shape of a catalog, variants counted as one: what must match across languages."""
    if isinstance(node, dict):
        return {k: structure(v) for k, v in node.items()}
    return "slot"


def test_every_required_language_ships_a_catalog() -> None:
    assert REQUIRED_LANGUAGES <= set(LANGUAGES)


def test_a_formal_greeting_that_names_the_customer_names_them_by_surname_or_full_name() -> None:
    """A title ("Dr. ") before no surname would greet "Dear Dr. ," — the title only goes with the surname."""
    for language in LANGUAGES:
        for form, text in catalog(language)["salutation"]["formal"].items():
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            assert "title" not in names or "last" in names, (language, form, text)


def test_catalogs_have_the_same_keys_in_every_language() -> None:
    english = structure(catalog("en"))
    for language in LANGUAGES:
        assert structure(catalog(language)) == english, language
    assert set(catalog("en")["empathy"]) == TOPICS
    for key in ("acknowledge", "closing"):
        assert set(catalog("en")[key]) == TONES


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_acknowledgement_and_its_empathy_are_one_sentence_each(language: str) -> None:
    """They share a line in the draft, so the grounding check (slow) traces them sentence by sentence: a catalog
    string that is two sentences would trace as neither."""
    c = catalog(language)
    for key in ("acknowledge", "empathy"):
        for path, text in leaves(c[key], key).items():
            assert len(SENTENCE_END.split(text.strip())) == 1, (language, path, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_renders_with_realistic_values(language: str) -> None:
    for path, text in leaves(catalog(language)).items():
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        allowed = ALLOWED.get(slot(path), set())
        assert names <= allowed, f"{language} {path}: unknown placeholder(s) {names - allowed} in {text!r}"
        assert REQUIRED.get(slot(path), set()) <= names, f"{language} {path}: a placeholder is missing in {text!r}"
        rendered = text.format(**VALUES)
        assert rendered.strip() and "{" not in rendered and "}" not in rendered, (language, path, rendered)
