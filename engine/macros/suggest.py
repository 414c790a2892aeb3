"""The macros stage: the helpdesk's own macros that fit a ticket, ranked with a score and rendered for it.

Like the big helpdesks' suggested macros, the rank is mostly meaning: the ticket's embedding (from the
pipeline's one encoder pass) against each macro's title and example phrases, embedded once at warm-up with
the same "query: " prefix, taking the best of them (a macro answers several phrasings; their average would
blur it). Routing's queue and the topic head add what the words alone miss. Only macros in the customer's
language compete, or, when the helpdesk wrote none in it, those in the agents' language.

The suggestion is a draft built from the macro: it is rendered with the answer the draft stage quotes (only
that one: the draft quotes nothing when routing withholds the answer, so neither does a macro).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import TemplateError

from engine.automate.acknowledge import babel_locale, pick_language, when
from engine.draft.catalog import FALLBACK_LANGUAGE, catalog
from engine.draft.names import parse_name
from engine.draft.signature import team_name
from engine.macros.templates import Macro, load_macros
from engine.models.registry import ModelRegistry
from engine.stage import TicketState
from engine.types import MacroSuggestion

log = logging.getLogger(__name__)

# Weights of the score's parts, summing to 1; each part lies in [0, 1].
MEANING_WEIGHT = 0.7
QUEUE_WEIGHT = 0.2
TOPIC_WEIGHT = 0.1
SIMILARITY_FLOOR = 0.8
"""E5's cosine between unrelated texts sits about here: the meaning part counts only what lies above it."""
ANY = 0.5
"""The match part of a macro that names no queue (or topic): it fits any, so less than one written for it."""


def meaning(cosine: float) -> float:
    return float(np.clip((cosine - SIMILARITY_FLOOR) / (1.0 - SIMILARITY_FLOOR), 0.0, 1.0))


def match(wanted: tuple[str, ...], actual: str | None) -> float:
    if not wanted:
        return ANY
    return 1.0 if actual in wanted else 0.0


class MacroSuggester:
    name = "macros"
    needs: tuple[str, ...] = ("encode",)
    required = False

    def __init__(self, registry: ModelRegistry, folder: Path | None, top_k: int) -> None:
        self._registry = registry
        self._folder = folder
        self._top_k = top_k
        self._macros: list[Macro] = []
        self._vectors: list[np.ndarray] = []

    def warm_up(self) -> None:
        if self._folder is None:
            return
        self._macros = load_macros(self._folder)
        if not self._macros:
            return
        rows = self._registry.encoder.encode_queries([t for m in self._macros for t in m.match_texts])
        offsets = np.cumsum([0, *(len(m.match_texts) for m in self._macros)])
        self._vectors = [rows[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]

    def run(self, batch: Sequence[TicketState]) -> None:
        suggestions = [self.suggest(s) for s in batch]
        for state, found in zip(batch, suggestions, strict=True):
            state.macros = found

    def language(self, s: TicketState) -> str:
        """The customer's language if the helpdesk wrote macros in it, else the agents'."""
        assert s.route is not None
        return s.language.code if any(m.language == s.language.code for m in self._macros) else s.route.language

    def rank(self, s: TicketState, language: str) -> list[tuple[float, Macro]]:
        """Every macro in ``language`` with its score, best first."""
        assert s.embedding is not None and s.route is not None
        topic = s.topic.label if s.topic else None
        scored = [
            (
                MEANING_WEIGHT * meaning(float(np.max(vectors @ s.embedding)))
                + QUEUE_WEIGHT * match(m.meta.queues, s.route.queue)
                + TOPIC_WEIGHT * match(m.meta.topics, topic),
                m,
            )
            for m, vectors in zip(self._macros, self._vectors, strict=True)
            if m.language == language
        ]
        return sorted(scored, key=lambda pair: (-pair[0], pair[1].id))

    def suggest(self, s: TicketState) -> tuple[MacroSuggestion, ...]:
        if not self._macros:
            return ()
        language = self.language(s)
        variables, citations = self.variables(s, language)
        found: list[MacroSuggestion] = []
        for score, macro in self.rank(s, language):
            try:
                text = macro.render(variables)
            except (TemplateError, TypeError, ValueError):
                # Linted at start-up, so only a value the template did not expect (arithmetic on a missing
                # order number) gets here: that macro is left out for this ticket, the others still offered.
                log.warning("macro %s failed to render for ticket %s", macro.path, s.id, exc_info=True)
                continue
            quoted = citations if "quoted_answer" in macro.reads else ()
            found.append(MacroSuggestion(macro.id, macro.meta.title, macro.language, round(score, 4), text, quoted))
            if len(found) == self._top_k:
                break
        return tuple(found)

    @staticmethod
    def variables(s: TicketState, language: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The documented variables (templates.VARIABLES) for a macro in ``language``, and the quoted citation.

        ``response_due`` is written in the macro's language (English where the acknowledgement has no catalog
        for it), in the customer's time zone.
        """
        assert s.route is not None
        name = (s.ticket.customer_name or "").strip() or None
        parsed = parse_name(name)
        quoted, excerpt = None, None
        citations: tuple[str, ...] = ()
        if s.draft is not None and s.draft.citations and s.draft.quotes:
            article_id, _, anchor = s.draft.citations[0].partition("#")
            quoted = next((a for a in s.articles if a.id == article_id and a.anchor == anchor), None)
            citations = s.draft.citations[:1] if quoted else ()
            excerpt = s.draft.quotes[0] if quoted else None
        due = None
        if s.automations is not None:
            written = pick_language(language)
            due = when(s.automations.first_response_due, written, babel_locale(written, s.ticket.locale))
        values = {
            "customer_name": name,
            "customer_first_name": parsed.first if parsed else None,
            "order_number": next((e.text for e in s.entities if e.label == "ORDER_NUMBER"), None),
            "product": next((e.text for e in s.entities if e.label == "PRODUCT"), None),
            "queue": s.route.queue,
            "topic": s.topic.label if s.topic else None,
            "urgency": s.route.urgency,
            "language": s.language.code,
            "agent_language": s.route.language,
            "agent_name": team_name(
                s.kb, language, catalog(language, language in s.kb.informal_address) or catalog(FALLBACK_LANGUAGE)
            ),
            "quoted_answer": excerpt,
            "article_title": quoted.title if quoted else None,
            "article_url": s.kb.article_url_template.format(id=quoted.id, anchor=quoted.anchor) if quoted else None,
            "response_due": due,
        }
        return values, citations
