"""Drafts from KB sections, message catalogs and what the customer told us.

No generative model ships offline (see shared/MODELS.md), so a draft is
assembled: a greeting by name, an acknowledgement whose tone follows the
sentiment and names the order or product the ticket mentions, the answer
quoted from the best article section, a citation, and a sign-off. Every
sentence is either from a reviewed catalog or from a reviewed article, which
is what lets an agent trust it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from engine.stage import TicketState
from engine.translate import Translator
from engine.types import ArticleHit, Draft, SentimentResult, Span

CATALOG_DIR = Path(__file__).parent / "catalogs"
FALLBACK_LANGUAGE = "en"
ANSWER_CHARS = 900


@cache
def catalog(language: str) -> dict[str, Any]:
    path = CATALOG_DIR / f"{language}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def available_languages() -> list[str]:
    return sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))


def answer_excerpt(body: str, limit: int = ANSWER_CHARS) -> str:
    """Whole paragraphs and whole lists from the top of the section, up to ``limit`` characters."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", body)
    text = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text)
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    kept: list[str] = []
    used = 0
    for block in blocks:
        if kept and used + len(block) > limit:
            break
        kept.append(block)
        used += len(block)
    return "\n\n".join(kept)


@dataclass(frozen=True)
class DraftRequest:
    language: str
    customer_name: str | None
    sentiment: SentimentResult | None
    entities: tuple[Span, ...]
    articles: tuple[ArticleHit, ...]
    agent_name: str
    """The signature: the knowledge base's brand."""
    url_template: str
    """How to cite an article of that knowledge base ({id}, {anchor})."""
    may_quote: bool = True
    """False when the routing policy withholds answers for this ticket (out of scope, a risk)."""


class DraftComposer:
    """The drafting stage: a reply in the customer's language, quoting an article only where routing allows."""

    name = "draft"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, translator: Translator, answer_threshold: float) -> None:
        """``answer_threshold``: the answer confidence the top article needs to be quoted (routing policy)."""
        self._translator = translator
        self._answer_threshold = answer_threshold

    def warm_up(self) -> None:
        for language in available_languages():
            catalog(language)

    def run(self, batch: Sequence[TicketState]) -> None:
        drafts = [
            self.compose(
                DraftRequest(
                    language=s.language.code,
                    customer_name=s.ticket.customer_name,
                    sentiment=s.sentiment,
                    entities=s.entities,
                    articles=s.articles,
                    agent_name=s.kb.agent_name,
                    url_template=s.kb.article_url_template,
                    may_quote=not s.answer_withheld,
                )
            )
            for s in batch
        ]
        for state, draft in zip(batch, drafts, strict=True):
            state.draft = draft

    def compose(self, req: DraftRequest) -> Draft:
        # Only the top hit: the confidence is calibrated for it, and a lower hit that clears the bar is rare
        # and then less likely than the top one to be what the customer asked.
        top = req.articles[0] if req.articles else None
        answer = top if req.may_quote and top is not None and top.answer_confidence >= self._answer_threshold else None
        # Write in the customer's language when both the catalog and the quoted article exist in it.
        language = req.language if catalog(req.language) else FALLBACK_LANGUAGE
        if answer is not None and answer.language != language:
            language = answer.language if catalog(answer.language) else FALLBACK_LANGUAGE
        c = catalog(language)
        tone = req.sentiment.label if req.sentiment else "neutral"
        order = next((e.text for e in req.entities if e.label == "ORDER_NUMBER"), None)
        product = next((e.text for e in req.entities if e.label == "PRODUCT"), None)
        about = (
            c["about_order"].format(order=order)
            if order
            else c["about_product"].format(product=product)
            if product
            else ""
        )
        first_name = (req.customer_name or "").strip()
        parts = [
            c["greeting"].format(name=first_name) if first_name else c["greeting_anonymous"],
            c["acknowledge"][tone].format(about=about),
        ]
        citations: tuple[str, ...] = ()
        if answer is not None:
            ref = req.url_template.format(id=answer.id, anchor=answer.anchor)
            parts += [c["answer_intro"], answer_excerpt(answer.body), c["citation"].format(title=answer.title, ref=ref)]
            citations = (f"{answer.id}#{answer.anchor}",)
        else:
            parts.append(c["no_answer"])
        parts += [c["closing"][tone], c["sign_off"].format(agent=req.agent_name)]
        text = "\n\n".join(parts)
        needs_translation = language != req.language and req.language != "und"
        if needs_translation and self._translator.can_translate(language, req.language):
            text = self._translator.translate([text], language, req.language)[0]
            language, needs_translation = req.language, False
        return Draft(
            text=text, language=language, citations=citations, needs_translation=needs_translation, tone=tone
        )
