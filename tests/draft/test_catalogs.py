"""Every catalog string in every language renders with realistic values: no missing key, no stray placeholder."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from engine.draft.catalog import CATALOG_DIR, INFORMAL, available_languages, catalog, has_informal_address, load_catalog

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
    "salutation.informal": {"first", "full"},
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
INFORMAL_LANGUAGES = [language for language in LANGUAGES if has_informal_address(language)]
REGISTERS = [(language, False) for language in LANGUAGES] + [(language, True) for language in INFORMAL_LANGUAGES]
# Words that give a register away: the polite catalog must hold none of the familiar ones and the familiar
# catalog none of the polite ones, or a draft would switch register mid-letter.
FAMILIAR_WORDS = {
    "de": {"du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines", "Dein", "Deine"},
    "es": {"tú", "tu", "tus", "te", "ti", "tuyo", "tuya", "tuyas", "tuyos", "Tu"},
    "fr": {"tu", "te", "t", "toi", "ton", "ta", "tes", "Tu", "Ta", "Ton"},
}
POLITE_WORDS = {
    "de": {"Sie", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres", "Ihnen"},
    "es": {"usted", "su", "sus", "le", "suyo", "suya", "suyas", "suyos", "Su"},
    "fr": {"vous", "votre", "vos", "Votre", "Vous"},
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


@pytest.mark.parametrize(("language", "informal"), REGISTERS)
def test_an_acknowledgement_and_its_empathy_are_one_sentence_each(language: str, informal: bool) -> None:
    """They share a line in the draft, so the grounding check (slow) traces them sentence by sentence: a catalog
    string that is two sentences would trace as neither."""
    c = catalog(language, informal)
    for key in ("acknowledge", "empathy"):
        for path, text in leaves(c[key], key).items():
            assert len(SENTENCE_END.split(text.strip())) == 1, (language, path, text)


@pytest.mark.parametrize(("language", "informal"), REGISTERS)
def test_every_string_renders_with_realistic_values(language: str, informal: bool) -> None:
    for path, text in leaves(catalog(language, informal)).items():
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        allowed = ALLOWED.get(slot(path), set())
        assert names <= allowed, f"{language} {path}: unknown placeholder(s) {names - allowed} in {text!r}"
        assert REQUIRED.get(slot(path), set()) <= names, f"{language} {path}: a placeholder is missing in {text!r}"
        rendered = text.format(**VALUES)
        assert rendered.strip() and "{" not in rendered and "}" not in rendered, (language, path, rendered)


def test_the_languages_with_a_tv_choice_offer_both_registers() -> None:
    assert {"de", "es", "fr"} <= set(INFORMAL_LANGUAGES)


@pytest.mark.parametrize("language", INFORMAL_LANGUAGES)
def test_an_informal_block_only_replaces_slots_the_polite_catalog_has(language: str) -> None:
    """A misspelt key in the block would add a slot nobody reads and leave the polite one in the draft."""

    def within(over: object, base: object, path: str) -> None:
        if isinstance(over, dict):
            assert isinstance(base, dict), path
            for key, value in over.items():
                assert key in base, f"{language} {INFORMAL}.{path}{key}: no such slot"
                within(value, base[key], f"{path}{key}.")

    within(load_catalog(CATALOG_DIR, language)[INFORMAL], catalog(language), "")
    assert structure(catalog(language, informal=True)) == structure(catalog("en"))


@pytest.mark.parametrize(("language", "informal"), [r for r in REGISTERS if r[0] in FAMILIAR_WORDS])
def test_a_register_never_slips_into_the_other(language: str, informal: bool) -> None:
    wrong = POLITE_WORDS[language] if informal else FAMILIAR_WORDS[language]
    for path, text in leaves(catalog(language, informal)).items():
        words = set(re.findall(r"\w+", text.format(**VALUES).replace(VALUES["team"], "")))
        assert not words & wrong, f"{language} {'informal' if informal else 'polite'} {path}: {words & wrong} in {text!r}"


def test_english_has_one_register() -> None:
    assert not has_informal_address("en") and catalog("en", informal=True) == catalog("en")
