"""How a draft's pieces are put together in each register.

A letter (e-mail, web form) is complete: greeting, acknowledgement, the quoted answer with its citation, a
closing and a localised sign-off, paragraphs apart. A short message (chat, messaging, social) has no letter
frame: a greeting line, the acknowledgement, the answer with a bare link and a one-line question back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.draft.catalog import pick
from engine.types import ArticleHit, Span


@dataclass(frozen=True)
class Quote:
    hit: ArticleHit
    text: str
    """Units of the section's plain text, in its order (``excerpt.py``)."""
    ref: str
    """The article's link in the knowledge base's help centre."""


@dataclass(frozen=True)
class Voice:
    """What the wording is chosen by, beside the catalog."""

    seed: str
    tone: str
    topic: str | None
    greeting: str
    team: str


def about(c: dict[str, Any], entities: Sequence[Span], topic: str | None) -> str:
    """What the acknowledgement names: the order number, else the product, else the account it is about."""
    order = next((e.text for e in entities if e.label == "ORDER_NUMBER"), None)
    product = next((e.text for e in entities if e.label == "PRODUCT"), None)
    if order:
        return str(c["about"]["order"]).format(order=order)
    if product:
        return str(c["about"]["product"]).format(product=product)
    return str(c["about"]["account"]) if topic == "account" else ""


def acknowledgement(c: dict[str, Any], v: Voice, about_text: str, with_empathy: bool) -> str:
    """Thanks or an apology by sentiment; when the customer is upset, a line on what their kind of trouble is like."""
    line = pick(c["acknowledge"][v.tone], v.seed, "acknowledge").format(about=about_text)
    if with_empathy and v.tone == "negative" and v.topic in c["empathy"]:
        line += " " + pick(c["empathy"][v.topic], v.seed, "empathy")
    return line


def letter(c: dict[str, Any], v: Voice, ack: str, quotes: Sequence[Quote]) -> str:
    parts = [v.greeting, ack]
    for i, q in enumerate(quotes):
        intro = pick(c["answer_intro"], v.seed, "answer_intro") if i == 0 else pick(c["more_intro"], v.seed, "more")
        citation = pick(c["citation"], v.seed, "citation").format(title=q.hit.title, ref=q.ref)
        parts += [intro, q.text, citation]
    if not quotes:
        parts.append(pick(c["no_answer"], v.seed, "no_answer"))
    parts += [
        pick(c["closing"][v.tone], v.seed, "closing"),
        pick(c["sign_off"], v.seed, "sign_off").format(team=v.team),
    ]
    return "\n\n".join(parts)


def short(c: dict[str, Any], v: Voice, ack: str, quotes: Sequence[Quote]) -> str:
    parts = [f"{v.greeting}\n{ack}"]
    for i, q in enumerate(quotes):
        link = pick(c["chat_citation"], v.seed, "chat_citation").format(ref=q.ref)
        intro = "" if i == 0 else pick(c["more_intro"], v.seed, "more") + "\n"
        parts.append(f"{intro}{q.text}\n{link}")
    if quotes:
        parts.append(pick(c["chat_closing"], v.seed, "chat_closing"))
    else:  # a holding reply: asking "Does that help?" after it would answer nothing
        parts.append(pick(c["no_answer"], v.seed, "no_answer"))
    return "\n\n".join(parts)
