"""Values passed between pipeline stages, and the one source of the API's request and result shapes.

Frozen dataclasses, checked on construction, so a stage can trust what it is
handed. The API validates a request into a ``Ticket`` and serialises a
``TriageResult`` or ``Suggestion`` with pydantic (``engine/result_shape.py``),
reading the ``Field`` annotations here: limits and descriptions for the OpenAPI
document, and ``exclude=True`` on what stays internal. Nothing in a stage
validates through pydantic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Annotated, Literal, get_args
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field
from pydantic_core import PydanticCustomError

# Each vocabulary is written once, as the type; the tuples checks and messages use are read from it.
Channel = Literal["email", "chat", "social", "messaging", "phone", "web"]
CHANNELS: tuple[str, ...] = get_args(Channel)
SentimentLabel = Literal["negative", "neutral", "positive"]
FormOfAddress = Literal["ms", "mr", "mx"]
FORMS_OF_ADDRESS: tuple[str, ...] = get_args(FormOfAddress)
Urgency = Literal["low", "normal", "high", "urgent"]
URGENCY_LEVELS: tuple[str, ...] = get_args(Urgency)
RiskKind = Literal[
    "security_incident", "safety_hazard", "threat", "legal_request", "fraud", "distress", "human_requested"
]
RISK_KINDS: tuple[str, ...] = get_args(RiskKind)
Trend = Literal["improving", "worsening", "stable"]

# Every field of a result is in its JSON, defaults too, so the OpenAPI document marks them all required. Each
# result dataclass with defaults carries it: pydantic passes a container's config only to a dataclass it meets once.
RESULT_CONFIG = ConfigDict(json_schema_serialization_defaults_required=True)

BLANK_TEXT = "must contain non-whitespace characters"
# A BCP 47 language tag (RFC 5646 "langtag", case-insensitive): language, script, region, variants, extensions,
# private use. Only its shape is checked, not the registry of subtags.
BCP47 = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?",
    re.IGNORECASE,
)


def _non_blank(text: str) -> str:
    """Refuses a blank text while the request is validated, so the error names the field (``__post_init__``'s cannot)."""
    if not text.strip():
        raise PydanticCustomError("value_error", BLANK_TEXT)  # its message without pydantic's "Value error, "
    return text


def _bcp47(tag: str) -> str:
    if not BCP47.fullmatch(tag):
        raise ValueError("must be a BCP 47 language tag such as 'en-GB', 'hr' or 'zh-Hant-TW'")
    return tag


@cache
def iana_zones() -> frozenset[str]:
    """Every IANA zone name the system's tz database holds (read once: listing them walks the database)."""
    return frozenset(available_timezones())


def _iana_zone(name: str) -> str:
    """Refuses a zone the system's tz database lacks: an acknowledgement's times would otherwise be guessed."""
    if name not in iana_zones():
        raise ValueError("must be an IANA time zone such as 'Europe/Zagreb' or 'America/New_York'")
    return name


@dataclass(frozen=True)
class Message:
    """An earlier message of the same conversation."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    text: Annotated[str, Field(max_length=50_000)]
    author: Literal["customer", "agent"] = "customer"


@dataclass(frozen=True)
class Ticket:
    """A customer's ticket: what the API accepts (the limits apply to requests) and what the pipeline reads."""

    __pydantic_config__ = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Moja narudžba 12345 još nije stigla, a platio sam prije dva tjedna!",
                    "channel": "email",
                    "customer_name": "Ivan",
                }
            ]
        },
    )

    text: Annotated[str, AfterValidator(_non_blank), Field(description="The customer's message (required, non-blank).")]
    subject: Annotated[str | None, Field(max_length=1_000)] = None
    channel: Channel | None = None
    customer_name: Annotated[str | None, Field(max_length=200)] = None
    customer_salutation: Annotated[
        FormOfAddress | None,
        Field(
            description="How the customer is addressed, for a formal greeting in letters: 'ms', 'mr', or 'mx' "
            "(no gendered form: the full name). Left out: the form the name carries ('Frau ...'), else first name."
        ),
    ] = None
    customer_tier: Annotated[str | None, Field(max_length=50)] = None
    locale: Annotated[
        Annotated[str, AfterValidator(_bcp47)] | None,
        Field(max_length=35, description="Channel or account locale as a BCP 47 tag, e.g. 'hr-HR'."),
    ] = None
    messages: Annotated[tuple[Message, ...], Field(max_length=100, description="Earlier messages, oldest first.")] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    kb: Annotated[
        str | None,
        Field(max_length=64, description="Which knowledge base answers it (brand, tenant); default: default_kb."),
    ] = None
    customer_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=200,
            description="Your helpdesk's id of the customer; stored only as a keyed hash, for `sift forget --customer` "
            "and the routing policy's repeated_contact rule.",
        ),
    ] = None
    timezone: Annotated[
        Annotated[str, AfterValidator(_iana_zone)] | None,
        Field(
            max_length=64,
            description="The customer's IANA time zone, e.g. 'Europe/Zagreb': the acknowledgement's times are shown "
            "in it. Default: the locale's region when it has one clock, else the helpdesk's.",
        ),
    ] = None
    received_at: Annotated[
        AwareDatetime | None,
        Field(description="When the helpdesk received it (with its UTC offset): the response target counts from "
        "it, and the routing policy raises the priority of a long wait (priority_waiting_hours). Default: when it "
        "is triaged."),
    ] = None
    external_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=200,
            description="Your helpdesk's id of this ticket: the idempotency key. A ticket sent again with an id "
            "already in the log (a retry) is answered from the log, never triaged or stored twice; different "
            "content under a used id is refused with 409. Unique per API key name.",
        ),
    ] = None

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise ValueError(f"text {BLANK_TEXT}")
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}; got {self.channel!r}")
        if self.customer_salutation is not None and self.customer_salutation not in FORMS_OF_ADDRESS:
            raise ValueError(
                f"customer_salutation must be one of {', '.join(FORMS_OF_ADDRESS)}; got {self.customer_salutation!r}"
            )
        if self.timezone is not None and self.timezone not in iana_zones():
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone such as 'Europe/Zagreb'")
        if self.received_at is not None and self.received_at.utcoffset() is None:
            raise ValueError("received_at must carry its UTC offset, e.g. '2026-12-07T09:30:00+01:00'")


@dataclass(frozen=True)
class Span:
    """A labelled character span of the normalised text."""

    __pydantic_config__ = RESULT_CONFIG

    label: str
    text: Annotated[
        str, Field(description="The span's text; for PII its placeholder, e.g. '[EMAIL]' or '[CARD_NUMBER ****1234]'.")
    ]
    start: int
    end: int
    source: str = "rules"
    field: Annotated[
        str | None, Field(description="PII only: the field the offsets are into (text, subject, messages.0.text).")
    ] = None


@dataclass(frozen=True)
class NormalisedText:
    text: str
    removed_quote: bool = False
    removed_signature: bool = False


@dataclass(frozen=True)
class LanguageScore:
    """A language the text may also be in, with its share of the detectors' votes."""

    code: str
    confidence: float


@dataclass(frozen=True)
class LanguageResult:
    __pydantic_config__ = RESULT_CONFIG

    code: str
    confidence: float
    uncertain: bool = False
    alternatives: tuple[LanguageScore, ...] = ()


@dataclass(frozen=True)
class LabelScore:
    label: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    """A calibrated classifier output; ``label`` is None when the head declines to choose."""

    __pydantic_config__ = RESULT_CONFIG

    label: str | None
    confidence: float
    alternatives: tuple[LabelScore, ...] = ()
    model_version: str | None = None


@dataclass(frozen=True)
class SentimentResult:
    __pydantic_config__ = RESULT_CONFIG

    label: SentimentLabel
    score: Annotated[float, Field(ge=-1, le=1)]
    confidence: float
    trend: Trend | None = None
    history: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not -1.0 <= self.score <= 1.0:
            raise ValueError(f"sentiment score must lie in [-1, 1]; got {self.score}")


@dataclass(frozen=True)
class RiskSignal:
    """One kind of risk a ticket shows; its kind is also the handoff reason code."""

    __pydantic_config__ = RESULT_CONFIG

    kind: Annotated[RiskKind, Field(description="The kind of risk; also the handoff reason code it adds.")]
    confidence: Annotated[float, Field(ge=0, le=1)]
    evidence: Annotated[
        tuple[str, ...], Field(description="Which lexicon patterns (by id) or the risk head fired; never the text.")
    ] = ()
    """Lexicon pattern ids (``lexicon:<kind>:<lang>:<id>``) or the head (``head:<p>``)."""

    def __post_init__(self) -> None:
        if self.kind not in RISK_KINDS:
            raise ValueError(f"risk kind must be one of {', '.join(RISK_KINDS)}; got {self.kind!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"risk confidence must lie in [0, 1]; got {self.confidence}")


@dataclass(frozen=True)
class ArticleHit:
    __pydantic_config__ = RESULT_CONFIG

    id: str
    title: str
    language: str
    section: str
    anchor: str
    snippet: str
    body: Annotated[str, Field(exclude=True)]
    score: Annotated[
        float,
        Field(
            description="Ranking score: in dense mode similarity plus the topic prior; in hybrid mode the fused score "
            "(`fusion`), in lexical mode BM25's."
        ),
    ]
    similarity: Annotated[
        float,
        Field(
            description="Dense similarity of the best section (its cosine mixed with its best sentence window's); "
            "one input of answer_confidence."
        ),
    ]
    topic: str | None = None
    product: str | None = None
    translation_of: Annotated[str | None, Field(exclude=True)] = None
    sources: Annotated[tuple[str, ...], Field(description="Which stages ranked it: dense, lexical, rerank.")] = ()
    answer_confidence: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="Calibrated probability that this article answers the query (answer_confidence_threshold).",
        ),
    ] = 0.0
    """Calibrated by ``engine/retrieve/confidence.py``."""
    highlights: Annotated[
        tuple[tuple[int, int], ...],
        Field(
            description="[start, end) character offsets into `snippet` of the words that matched the query; "
            "empty when none did (e.g. a query in another language than the article)."
        ),
    ] = ()
    rerank_score: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="The cross-encoder's relevance probability when `rerank` is on and re-read this query "
            "(English queries); the articles are then in its order.",
        ),
    ] = None
    """From ``engine/models/cross_encoder.py``."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.answer_confidence <= 1.0:
            raise ValueError(f"answer_confidence must lie in [0, 1]; got {self.answer_confidence}")
        if any(not 0 <= s < e <= len(self.snippet) for s, e in self.highlights):
            raise ValueError(f"highlights {self.highlights} do not lie inside the snippet")


@dataclass(frozen=True)
class Draft:
    __pydantic_config__ = RESULT_CONFIG

    text: str
    language: str
    citations: tuple[str, ...]
    needs_translation: bool = False
    tone: str = "neutral"
    register: Annotated[
        Literal["letter", "short"],
        Field(description="letter: greeting, answer and sign-off (e-mail, web); short: a chat or social message."),
    ] = "letter"
    quotes: Annotated[
        tuple[str, ...],
        Field(description="The excerpt quoted from each cited section, in the order of citations (what a macro's "
        "quoted_answer slots in)."),
    ] = ()
    translation: Annotated[
        str,
        Field(
            description="How the text came to be in its language: 'original' (written in it), a machine translation "
            "backend's name (argos, bergamot, apertium: machine-translated, review before sending) or 'unavailable' "
            "(it needed translating and no installed backend could; see needs_translation)."
        ),
    ] = "original"


@dataclass(frozen=True)
class Gist:
    """The ticket machine-translated for an agent who does not read the customer's language; never the record.

    Produced only when the routed agent language differs from the ticket's. The original it was made from is
    carried beside it, so the two are always shown together.
    """

    __pydantic_config__ = RESULT_CONFIG

    language: Annotated[str, Field(description="The agent's language (the route's), which the gist is in.")]
    source_language: str
    original: Annotated[str, Field(description="The ticket text the gist translates (as normalised).")]
    text: Annotated[str | None, Field(description="The machine translation; null when unavailable.")]
    translation: Annotated[
        str, Field(description="The backend that translated it (argos, bergamot, apertium), or 'unavailable'.")
    ]


@dataclass(frozen=True)
class ArticleText:
    """One article in the language asked for (`GET /v1/articles/{id}`): the KB's own version where it has one."""

    __pydantic_config__ = RESULT_CONFIG

    id: Annotated[str, Field(description="The article asked for.")]
    kb: str
    language: Annotated[str, Field(description="The language of title and body.")]
    title: str
    body: Annotated[str, Field(description="Markdown.")]
    source_id: Annotated[str, Field(description="The article whose text this is (a translation of the asked one).")]
    source_language: str
    translation: Annotated[
        str,
        Field(
            description="'original' (the asked article), 'kb' (the knowledge base's own translation) or the machine "
            "translation backend's name (machine-translated)."
        ),
    ]


@dataclass(frozen=True)
class Route:
    __pydantic_config__ = RESULT_CONFIG

    queue: str
    language: str
    priority: str
    skills: tuple[str, ...] = ()
    reasons: Annotated[
        tuple[str, ...], Field(description="Why this queue, priority and agent language were chosen.")
    ] = ()
    rules: Annotated[
        tuple[str, ...],
        Field(
            description="Stable codes of the routing rules that fired (queue_by_topic, priority_by_tier, ...; "
            "docs/routing.md); the handoff rules that fired are `handoff.reasons`."
        ),
    ] = ()
    urgency: Annotated[str | None, Field(exclude=True)] = None
    """The urgency the priority follows: the urgency head's, or the minimum a risk raises it to (routing policy)."""


@dataclass(frozen=True)
class Handoff:
    __pydantic_config__ = RESULT_CONFIG

    required: bool
    reasons: tuple[str, ...] = ()
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class MacroSuggestion:
    """A helpdesk-written macro that fits the ticket, rendered for it (engine/macros)."""

    __pydantic_config__ = RESULT_CONFIG

    id: Annotated[str, Field(description="The macro's file name without language and extension.")]
    title: str
    language: str
    score: Annotated[
        float,
        Field(ge=0, le=1, description="How well it fits: meaning (title and examples) with queue and topic match."),
    ]
    text: Annotated[
        str, Field(description="The macro rendered for this ticket, the draft's quoted answer slotted in where it asks.")
    ]
    citations: Annotated[
        tuple[str, ...], Field(description="The quoted article section (id#anchor), when the text quotes one.")
    ] = ()


@dataclass(frozen=True)
class Automations:
    """What a helpdesk sends or sets at once (engine/automate): acknowledgement, response target, tags."""

    __pydantic_config__ = RESULT_CONFIG

    acknowledgement: Annotated[
        str, Field(description="The auto-reply in the customer's language, with when to expect an answer.")
    ]
    language: str
    first_response_due: Annotated[
        datetime,
        Field(description="When the queue's first-response target falls due, counted in business hours, in the "
        "customer's time zone."),
    ]
    timezone: Annotated[str, Field(description="The customer's time zone the times are shown in.")]
    out_of_hours: Annotated[bool, Field(description="Received while the queue's business hours were closed.")]
    out_of_hours_notice: Annotated[
        str | None, Field(description="The sentence saying when the team is back (also in the acknowledgement).")
    ] = None
    tags: Annotated[
        tuple[str, ...], Field(description="Suggested tags: topic, urgency, language, risks, order, product, channel.")
    ] = ()


@dataclass(frozen=True)
class TriageResult:
    """The triage of one ticket: the API's response, `sift triage`'s output and (masked) the ticket log's record."""

    __pydantic_config__ = RESULT_CONFIG

    id: str
    kb: Annotated[str, Field(description="The knowledge base its articles and draft come from.")]
    language: LanguageResult
    sentiment: SentimentResult | None
    urgency: Prediction | None
    topic: Prediction
    """``Prediction(None, 0.0)`` when the classifier failed: the JSON's topic is never null."""
    entities: tuple[Span, ...]
    pii: tuple[Span, ...]
    articles: tuple[ArticleHit, ...]
    answer_confidence: Annotated[
        float | None,
        Field(ge=0, le=1, description="The top article's answer confidence (0 without articles, null if retrieval failed)."),
    ]
    """0 too when the answer is withheld: no article is quoted then."""
    draft: Draft | None
    route: Route
    handoff: Handoff
    risk: Annotated[
        tuple[RiskSignal, ...],
        Field(description="Risks in the ticket or its earlier customer messages; each hands it off."),
    ] = ()
    failed_stages: tuple[str, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    gist: Annotated[
        Gist | None,
        Field(description="The ticket translated into the routed agent's language when it is not the ticket's."),
    ] = None
    answer_withheld: Annotated[bool, Field(exclude=True)] = False
    """The routing policy forbade answering from the KB (out of scope, a risk): no article is quoted."""
    macros: Annotated[
        tuple[MacroSuggestion, ...], Field(description="The helpdesk's macros that fit best, best first.")
    ] = ()
    automations: Annotated[
        Automations | None, Field(description="Acknowledgement, response target and tags (null if that stage failed).")
    ] = None


@dataclass(frozen=True)
class Suggestion:
    """Public articles for a customer's question (`/v1/articles/suggest`)."""

    query: str
    kb: str
    language: str
    articles: tuple[ArticleHit, ...]
    answer_confidence: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="The top article's answer confidence: below the threshold, suggest contacting support.",
        ),
    ]
    handoff: Annotated[
        bool,
        Field(
            description="The question shows a risk (self-harm, a threat, fraud, ...: engine/risk): no article is "
            "suggested, offer a person instead."
        ),
    ] = False
