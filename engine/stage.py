"""The stage contract: every pipeline stage reads a batch of ticket states and fills its own part of each.

With one contract the pipeline is a loop that times each stage and isolates its failures, and adding a stage
means writing one module and naming it in ``Pipeline``'s list. A stage's part of :class:`TicketState` keeps
its default (the "nothing known" value the router reads as missing) when the stage fails, so a stage
writes only after it has computed the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from engine.settings import KnowledgeBase
from engine.types import (
    ArticleHit,
    Automations,
    Draft,
    Gist,
    Handoff,
    LanguageResult,
    MacroSuggestion,
    Prediction,
    RiskSignal,
    Route,
    SentimentResult,
    Span,
    Ticket,
)

UNKNOWN_LANGUAGE = LanguageResult("und", 0.0, True)


@dataclass(frozen=True)
class EarlierContact:
    """An earlier ticket of the same customer from the ticket log, for the routing policy's repeated_contact rule.

    The service looks these up (it owns the log; the customer id is matched by its keyed hash) and hands them to
    the pipeline, so the router decides from facts it is given and stays free of storage.
    """

    ticket_id: str
    received_at: str
    """ISO 8601, UTC, as the ticket log stores it."""
    topic: str | None


@dataclass(eq=False)  # holds arrays: compared by identity
class TicketState:
    """One ticket on its way through the stages; each field group belongs to the stage named beside it."""

    ticket: Ticket
    id: str
    kb: KnowledgeBase
    """The knowledge base whose articles may answer it, resolved before the first stage."""
    # normalise: the text the models read (the raw text if normalisation failed)
    text: str = ""
    # encode: one row per text, the ticket's and then each earlier customer message's
    embedding: np.ndarray | None = field(default=None, repr=False)
    history_embeddings: np.ndarray | None = field(default=None, repr=False)
    second_embedding: np.ndarray | None = field(default=None, repr=False)
    """The ticket's row from the heads' second encoder (``head_second_view``); None when it is off."""
    language: LanguageResult = UNKNOWN_LANGUAGE
    entities: tuple[Span, ...] = ()
    risk: tuple[RiskSignal, ...] = ()
    sentiment: SentimentResult | None = None
    topic: Prediction | None = None
    urgency: Prediction | None = None
    articles: tuple[ArticleHit, ...] = ()
    pii: tuple[Span, ...] = ()
    # given by the caller (the service reads the ticket log): the customer's recent earlier tickets
    earlier: tuple[EarlierContact, ...] = ()
    # route
    route: Route | None = None
    handoff: Handoff | None = None
    answer_withheld: bool = True
    """Until the router allows it, no article may be quoted."""
    draft: Draft | None = None
    # gist: the ticket in the agent's language when they differ
    gist: Gist | None = None
    # automate: acknowledgement, response target, tags
    automations: Automations | None = None
    # macros: the helpdesk's macros that fit, rendered
    macros: tuple[MacroSuggestion, ...] = ()
    failed: list[str] = field(default_factory=list)
    """Stages that failed on this ticket's batch, in the order they ran."""

    def __post_init__(self) -> None:
        self.text = self.text or self.ticket.text

    @property
    def history(self) -> list[str]:
        """The customer's earlier messages that hold any text, oldest first (the agent's are not theirs)."""
        return [m.text for m in self.ticket.messages if m.author == "customer" and m.text.strip()]


class Stage(Protocol):
    """What the pipeline needs of a stage; ``__init__`` must be cheap (models load in ``warm_up`` or lazily)."""

    name: str
    """Its key in ``timings_ms`` and in ``failed_stages`` (``stage_failed:<name>``)."""
    needs: tuple[str, ...]
    """Stages whose output it cannot do without: when one of them failed it is skipped and counted failed."""
    required: bool
    """Whether its failure fails the batch: for the routing decision, which nothing can stand in for."""

    def warm_up(self) -> None:
        """Load what it needs now, so that no request pays for it."""

    def run(self, batch: Sequence[TicketState]) -> None:
        """Fill its own part of every state of the batch."""
