"""Snippets: the passage that matches the query, with the matched words' offsets."""

from __future__ import annotations

from engine.retrieve.analysis import analyse
from engine.retrieve.snippets import ELLIPSIS, best_snippet, flatten

SECTION = (
    "Our warehouse ships most orders within one working day. Deliveries inside Germany take two days. "
    "Express options are shown at checkout.\n\n"
    "If a **parcel** has not arrived after ten days, check the tracking link in your confirmation e-mail. "
    "The carrier may have left it with a neighbour.\n\n"
    "Refunds for lost parcels are paid once the carrier confirms the loss, usually within 14 days."
)


def snip(query: str, language: str = "en", section: str = SECTION, article_language: str = "en", limit: int = 120):
    return best_snippet(section, article_language, frozenset(analyse(query, language)), limit)


def marked(s) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.text[a:b] for a, b in s.highlights]


def test_the_passage_holding_the_query_terms_is_chosen_not_the_section_start() -> None:
    s = snip("My parcels never arrived, where is the tracking?")
    assert s.text.startswith(f"{ELLIPSIS} If a parcel has not arrived")
    assert s.text.endswith(ELLIPSIS) and len(s.text) <= 120 + 4
    assert marked(s) == ["parcel", "arrived", "tracking"]


def test_highlights_are_offsets_into_the_snippet_and_stemmed() -> None:
    s = snip("refund lost parcel")
    assert marked(s) == ["Refunds", "lost", "parcels"]
    assert all(0 <= a < b <= len(s.text) for a, b in s.highlights)


def test_no_shared_term_gives_the_section_start_without_highlights() -> None:
    # A German query against an English section: no term in common.
    s = snip("Wo bleibt mein Päckchen?", language="de")
    assert s.text.startswith("Our warehouse ships") and s.highlights == ()
    assert snip("").highlights == ()


def test_short_sections_come_whole_and_markdown_bold_is_dropped() -> None:
    s = best_snippet("Tap **Orders**, then\nTrack.", "en", frozenset(analyse("track my order", "en")))
    assert s.text == "Tap Orders, then Track." and marked(s) == ["Orders", "Track"]


def test_overlapping_cjk_grams_become_one_highlight() -> None:
    s = best_snippet("请在应用中查看订单状态。", "zh", frozenset(analyse("订单", "zh")))
    assert marked(s) == ["订单"]


def test_flatten_keeps_words_on_one_line() -> None:
    assert flatten("a **b**\n\n c\td") == "a b c d"
