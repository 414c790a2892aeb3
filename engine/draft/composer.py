"""Drafts from KB sections, message catalogs and what the customer told us.

No generative model ships offline (see shared/MODELS.md), so a draft is assembled: a greeting by the rules of
its language and channel (``salutation.py``), an acknowledgement whose tone follows the sentiment and the topic
and names the order, product or account, the sentences of the best section that answer the question (of up to
three sections when the ticket asks several things), each cited, and a closing with a localised signature.
Every sentence is either a reviewed catalog string or a quote from a reviewed article, which is what lets an
agent trust it; reviewed variants picked by the ticket's hash keep two customers from getting the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace

import numpy as np

from engine.draft.catalog import FALLBACK_LANGUAGE, available_languages, catalog, has_informal_address, seed
from engine.draft.excerpt import Unit, choose, render, units
from engine.draft.layout import Quote, Voice, about, acknowledgement, letter, short
from engine.draft.names import parse_name
from engine.draft.questions import question_parts
from engine.draft.salutation import greeting, is_short
from engine.draft.signature import team_name
from engine.draft.vectors import SentenceVectors
from engine.models.registry import ModelRegistry
from engine.retrieve.retriever import reads
from engine.settings import KnowledgeBase
from engine.stage import TicketState
from engine.translate import ORIGINAL, UNAVAILABLE, TranslationUnavailable, TranslatorChain
from engine.types import ArticleHit, Channel, Draft, FormOfAddress, SentimentResult, Span

ANSWER_CHARS = 420
"""Quoted characters per section in a letter: the sentences that answer, not the whole section."""
SHORT_ANSWER_CHARS = 260
MAX_SECTIONS = 3
PART_MARGIN = 0.02
"""How much better another section must fit a part of the question than the top one to be quoted for it."""
WARM_TONE_SCORE = 0.6
"""Sentiment score from which the acknowledgement thanks the customer for a kind message. The head (trained on
tweets) reads business words as positive: all ten of 256 tickets-multilang e-mails it labelled positive were
requests ("optimizing brand growth", 0.30-0.59) that got "Thanks so much for your lovely message!", while thanks
and praise score about 0.8. A neutral acknowledgement to a mildly positive message costs nothing; gushing at a
request reads as canned."""


@dataclass(frozen=True)
class DraftRequest:
    language: str
    customer_name: str | None
    sentiment: SentimentResult | None
    entities: tuple[Span, ...]
    articles: tuple[ArticleHit, ...]
    kb: KnowledgeBase
    """Cites its articles (``article_url_template``) and signs the draft."""
    may_quote: bool = True
    """False when the routing policy withholds answers for this ticket (out of scope, a risk)."""
    channel: Channel | None = None
    customer_salutation: FormOfAddress | None = None
    topic: str | None = None
    text: str = ""
    """The ticket's text: split into the questions it asks, and hashed for the wording."""
    ticket_id: str = ""
    embedding: np.ndarray | None = None
    """The ticket's vector from the encode stage; without it the section is quoted from its start."""


class DraftComposer:
    """The drafting stage: a reply in the customer's language, quoting articles only where routing allows."""

    name = "draft"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, registry: ModelRegistry, translator: TranslatorChain, answer_threshold: float) -> None:
        """``answer_threshold``: the answer confidence a section needs to be quoted (routing policy)."""
        self._registry = registry
        self._vectors = SentenceVectors(registry)
        self._translator = translator
        self._answer_threshold = answer_threshold

    def warm_up(self) -> None:
        for language in available_languages():
            catalog(language)
        _ = self._registry.encoder

    def run(self, batch: Sequence[TicketState]) -> None:
        drafts = [self.compose(request(s)) for s in batch]
        for state, draft in zip(batch, drafts, strict=True):
            state.draft = draft

    def compose(self, req: DraftRequest) -> Draft:
        hits = self._answerable(req)
        brief = is_short(req.channel)
        quotes = self._quotes(req, hits, SHORT_ANSWER_CHARS if brief else ANSWER_CHARS)
        # Write in the customer's language when both the catalog and the quoted article exist in it, or when a
        # backend translates the quoted sections into it: then only they are machine-translated, and the greeting,
        # acknowledgement and sign-off stay the catalog's reviewed sentences (a whole English letter through Bergamot
        # signed off "Os aspectos do tipo" for "Kind regards").
        language = req.language if catalog(req.language) else FALLBACK_LANGUAGE
        quoted, translation = quotes[0].hit.language if quotes else language, ORIGINAL
        if quoted != language and not reads(language, quoted):
            with suppress(TranslationUnavailable):
                quotes, translation = self._translate_quotes(quotes, quoted, language)
                quoted = language
        if quoted != language:
            language = quoted if catalog(quoted) else FALLBACK_LANGUAGE
        informal = language in req.kb.informal_address and has_informal_address(language)
        c = catalog(language, informal)
        tone = draft_tone(req.sentiment)
        voice = Voice(
            seed=seed(req.ticket_id, req.text),
            tone=tone,
            # The empathy line speaks of what the draft answers: a French double charge the topic head sent to
            # returns, answered from the billing article, heard "I understand you want your return settled".
            topic=quotes[0].hit.topic if quotes and quotes[0].hit.topic else req.topic,
            greeting=greeting(c, parse_name(req.customer_name), req.customer_salutation, req.channel, informal),
            team=team_name(req.kb, language, c),
        )
        ack = acknowledgement(c, voice, about(c, req.entities, req.topic), with_empathy=not brief)
        text = (short if brief else letter)(c, voice, ack, quotes)
        # A Croatian draft for a Bosnian customer is in their language (engine/retrieve/retriever.py, ALSO_READ).
        needs_translation = not reads(req.language, language) and req.language != "und"
        translation = UNAVAILABLE if needs_translation else translation
        if needs_translation and self._translator.can_translate(language, req.language):
            done = self._translator.translate_marked([text], language, req.language)
            text, translation = done.texts[0], done.backend
            language, needs_translation = req.language, False
        return Draft(
            text=text,
            language=language,
            citations=tuple(f"{q.hit.id}#{q.hit.anchor}" for q in quotes),
            needs_translation=needs_translation,
            tone=tone,
            register="short" if brief else "letter",
            quotes=tuple(q.text for q in quotes),
            translation=translation,
        )

    def _translate_quotes(self, quotes: list[Quote], source: str, target: str) -> tuple[list[Quote], str]:
        """The quoted sections and their articles' titles in ``target``, and the backend that wrote them; the chain
        raises ``TranslationUnavailable`` when no installed backend can."""
        done = self._translator.translate_marked([t for q in quotes for t in (q.text, q.hit.title)], source, target)
        texts, titles = done.texts[0::2], done.texts[1::2]
        return [
            replace(q, text=text, hit=replace(q.hit, title=title))
            for q, text, title in zip(quotes, texts, titles, strict=True)
        ], done.backend

    def _answerable(self, req: DraftRequest) -> list[ArticleHit]:
        """The sections that may be quoted: none unless the top hit is confident (the confidence is calibrated
        for it), then it and the other confident sections in its language, for the other parts of a question."""
        if not req.may_quote or not req.articles or req.articles[0].answer_confidence < self._answer_threshold:
            return []
        top = req.articles[0]
        more = [
            h
            for h in req.articles[1:]
            if h.answer_confidence >= self._answer_threshold
            and h.language == top.language
            and (h.id, h.anchor) != (top.id, top.anchor)
        ]
        return [top, *more[: MAX_SECTIONS - 1]]

    def _quotes(self, req: DraftRequest, hits: list[ArticleHit], limit: int) -> list[Quote]:
        sections = [units(h.body) for h in hits]
        hits, sections = [h for h, s in zip(hits, sections, strict=True) if s], [s for s in sections if s]
        if not hits:
            return []
        if req.embedding is None:
            return [self._quote(req, hits[0], sections[0], choose(sections[0], None, limit))]
        flat = self._vectors.passages([u.text for s in sections for u in s])
        bounds = np.cumsum([0, *(len(s) for s in sections)])
        vectors = [flat[bounds[i] : bounds[i + 1]] for i in range(len(sections))]
        asks = self._asks(req, vectors)
        return [
            self._quote(req, hits[i], sections[i], choose(sections[i], (vectors[i] @ np.stack(q).T).max(axis=1), limit))
            for i, q in sorted(asks.items())
        ]

    def _asks(self, req: DraftRequest, vectors: list[np.ndarray]) -> dict[int, list[np.ndarray]]:
        """Which section answers which part of the question (by the vectors of the parts), the top one by
        default; a section answering no part is not quoted."""
        assert req.embedding is not None
        parts = question_parts(req.text) if len(vectors) > 1 else []
        if not parts:
            return {0: [req.embedding]}
        asks: dict[int, list[np.ndarray]] = {}
        for part in self._vectors.queries(parts):
            fit = [float((v @ part).max()) for v in vectors]
            best = int(np.argmax(fit))
            asks.setdefault(best if fit[best] >= fit[0] + PART_MARGIN else 0, []).append(part)
        asks.setdefault(0, [req.embedding])
        return asks

    @staticmethod
    def _quote(req: DraftRequest, hit: ArticleHit, section: Sequence[Unit], chosen: list[int]) -> Quote:
        return Quote(hit, render(section, chosen), req.kb.article_url_template.format(id=hit.id, anchor=hit.anchor))


def request(s: TicketState) -> DraftRequest:
    """What the composer reads of a ticket's state."""
    return DraftRequest(
        language=s.language.code,
        customer_name=s.ticket.customer_name,
        sentiment=s.sentiment,
        entities=s.entities,
        articles=s.articles,
        kb=s.kb,
        may_quote=not s.answer_withheld,
        channel=s.ticket.channel,
        customer_salutation=s.ticket.customer_salutation,
        topic=s.topic.label if s.topic else None,
        text=s.text,
        ticket_id=s.id,
        embedding=s.embedding,
    )


def draft_tone(sentiment: SentimentResult | None) -> str:
    """The acknowledgement's tone: the sentiment's label, but warm only for a clearly positive message."""
    if sentiment is None or (sentiment.label == "positive" and sentiment.score < WARM_TONE_SCORE):
        return "neutral"
    return sentiment.label
