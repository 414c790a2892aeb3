"""Values passed between pipeline stages.

Frozen dataclasses, checked on construction, so a stage can trust what it is
handed; pydantic is used only at the API boundary (``engine/api/schemas.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

# Each vocabulary is written once, as the type; the tuples checks and messages use are read from it.
Channel = Literal["email", "chat", "social", "messaging", "phone", "web"]
CHANNELS: tuple[str, ...] = get_args(Channel)
SentimentLabel = Literal["negative", "neutral", "positive"]
Urgency = Literal["low", "normal", "high", "urgent"]
URGENCY_LEVELS: tuple[str, ...] = get_args(Urgency)
RiskKind = Literal[
    "security_incident", "safety_hazard", "threat", "legal_request", "fraud", "distress", "human_requested"
]
RISK_KINDS: tuple[str, ...] = get_args(RiskKind)


@dataclass(frozen=True)
class Message:
    """An earlier message of the same conversation."""

    text: str
    author: Literal["customer", "agent"] = "customer"


@dataclass(frozen=True)
class Ticket:
    text: str
    subject: str | None = None
    channel: Channel | None = None
    customer_name: str | None = None
    customer_tier: str | None = None
    locale: str | None = None
    messages: tuple[Message, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    kb: str | None = None
    """The knowledge base (brand, tenant) whose articles may answer it; None: the default one."""
    customer_id: str | None = None
    """The helpdesk's id of the customer: stored only as a keyed hash, so `sift forget --customer` finds them."""

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise ValueError("text must contain non-whitespace characters")
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}; got {self.channel!r}")


@dataclass(frozen=True)
class Span:
    """A labelled character span of the normalised text."""

    label: str
    text: str
    start: int
    end: int
    source: str = "rules"
    field: str | None = None
    """For PII: the ticket field the offsets are into (``text``, ``subject``, ``messages.0.text``, ...)."""


@dataclass(frozen=True)
class NormalisedText:
    text: str
    removed_quote: bool = False
    removed_signature: bool = False


@dataclass(frozen=True)
class LanguageResult:
    code: str
    confidence: float
    uncertain: bool = False
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class LabelScore:
    label: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    """A calibrated classifier output; ``label`` is None when the head declines to choose."""

    label: str | None
    confidence: float
    alternatives: tuple[LabelScore, ...] = ()
    model_version: str | None = None


@dataclass(frozen=True)
class SentimentResult:
    label: SentimentLabel
    score: float
    confidence: float
    trend: str | None = None
    history: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not -1.0 <= self.score <= 1.0:
            raise ValueError(f"sentiment score must lie in [-1, 1]; got {self.score}")


@dataclass(frozen=True)
class RiskSignal:
    """One kind of risk a ticket shows; its kind is also the handoff reason code."""

    kind: RiskKind
    confidence: float
    evidence: tuple[str, ...] = ()
    """What fired: lexicon pattern ids (``lexicon:<kind>:<lang>:<id>``) or the head (``head:<p>``), never the text."""

    def __post_init__(self) -> None:
        if self.kind not in RISK_KINDS:
            raise ValueError(f"risk kind must be one of {', '.join(RISK_KINDS)}; got {self.kind!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"risk confidence must lie in [0, 1]; got {self.confidence}")


@dataclass(frozen=True)
class ArticleHit:
    id: str
    title: str
    language: str
    section: str
    anchor: str
    snippet: str
    body: str
    score: float
    similarity: float
    topic: str | None = None
    product: str | None = None
    translation_of: str | None = None
    sources: tuple[str, ...] = ()
    answer_confidence: float = 0.0
    """Calibrated probability that this hit answers the query (``engine/retrieve/confidence.py``)."""
    highlights: tuple[tuple[int, int], ...] = ()
    """``[start, end)`` offsets into ``snippet`` of the words that matched the query."""
    rerank_score: float | None = None
    """The cross-encoder's relevance probability when it re-ranked the hits (``engine/models/cross_encoder.py``)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.answer_confidence <= 1.0:
            raise ValueError(f"answer_confidence must lie in [0, 1]; got {self.answer_confidence}")
        if any(not 0 <= s < e <= len(self.snippet) for s, e in self.highlights):
            raise ValueError(f"highlights {self.highlights} do not lie inside the snippet")


@dataclass(frozen=True)
class Draft:
    text: str
    language: str
    citations: tuple[str, ...]
    needs_translation: bool = False
    tone: str = "neutral"


@dataclass(frozen=True)
class Route:
    queue: str
    language: str
    priority: str
    skills: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    urgency: str | None = None
    """The urgency the priority follows: the urgency head's, or the minimum a risk raises it to (routing policy)."""


@dataclass(frozen=True)
class Handoff:
    required: bool
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriageResult:
    ticket_id: str
    language: LanguageResult
    sentiment: SentimentResult | None
    urgency: Prediction | None
    topic: Prediction | None
    entities: tuple[Span, ...]
    pii: tuple[Span, ...]
    articles: tuple[ArticleHit, ...]
    draft: Draft | None
    route: Route
    handoff: Handoff
    kb: str
    """The knowledge base its articles come from."""
    answer_withheld: bool = False
    """The routing policy forbade answering from the KB (out of scope, a risk): no article is quoted."""
    failed_stages: tuple[str, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    risk: tuple[RiskSignal, ...] = ()
    """Risks found in the ticket or its earlier customer messages (``engine/risk``); each forces a handoff."""
