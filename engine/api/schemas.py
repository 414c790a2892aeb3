"""Request and response schemas; the only place pydantic meets the outside world."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.types import Channel, Urgency


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=50_000)
    author: Literal["customer", "agent"] = "customer"


# A BCP 47 language tag (RFC 5646 "langtag", case-insensitive): language, script, region, variants, extensions,
# private use. Only its shape is checked, not the registry of subtags.
BCP47 = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?",
    re.IGNORECASE,
)


def _bcp47(tag: str) -> str:
    if not BCP47.fullmatch(tag):
        raise ValueError("must be a BCP 47 language tag such as 'en-GB', 'hr' or 'zh-Hant-TW'")
    return tag


class TicketIn(BaseModel):
    model_config = ConfigDict(
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

    text: str = Field(description="The customer's message (required, non-blank).")
    subject: str | None = Field(default=None, max_length=1_000)
    channel: Channel | None = None
    customer_name: str | None = Field(default=None, max_length=200)
    customer_tier: str | None = Field(default=None, max_length=50)
    customer_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your helpdesk's id of the customer; stored only as a keyed hash, for `sift forget --customer`.",
    )
    locale: Annotated[str, AfterValidator(_bcp47)] | None = Field(
        default=None, max_length=35, description="Channel or account locale as a BCP 47 tag, e.g. 'hr-HR'."
    )
    messages: list[MessageIn] = Field(default_factory=list, max_length=100, description="Earlier messages, oldest first.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    kb: str | None = Field(
        default=None, max_length=64, description="Which knowledge base answers it (brand, tenant); default: default_kb."
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[TicketIn] = Field(min_length=1)


class LabelProbability(BaseModel):
    label: str
    probability: float


class PredictionOut(BaseModel):
    label: str | None
    confidence: float
    alternatives: list[LabelProbability]
    model_version: str | None


class LanguageOut(BaseModel):
    code: str
    confidence: float
    uncertain: bool
    alternatives: list[dict[str, Any]]


class SentimentOut(BaseModel):
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1, le=1)
    confidence: float
    trend: Literal["improving", "worsening", "stable"] | None
    history: list[float]


class SpanOut(BaseModel):
    label: str
    text: str = Field(description="The span's text; for PII its placeholder, e.g. '[EMAIL]' or '[CARD_NUMBER ****1234]'.")
    start: int
    end: int
    source: str
    field: str | None = Field(
        default=None, description="PII only: the field the offsets are into (text, subject, messages.0.text)."
    )


class ArticleOut(BaseModel):
    id: str
    title: str
    language: str
    section: str
    anchor: str
    snippet: str
    score: float = Field(
        description="Ranking score: in dense mode similarity plus the topic prior; in hybrid mode the fused score "
        "(`fusion`), in lexical mode BM25's."
    )
    similarity: float = Field(
        description="Dense similarity of the best section (its cosine mixed with its best sentence window's); "
        "one input of answer_confidence."
    )
    topic: str | None = None
    product: str | None = None
    sources: list[str] = Field(default_factory=list, description="Which stages ranked it: dense, lexical, rerank.")
    answer_confidence: float = Field(
        ge=0, le=1, description="Calibrated probability that this article answers the query (answer_confidence_threshold)."
    )
    highlights: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        description="[start, end) character offsets into `snippet` of the words that matched the query; "
        "empty when none did (e.g. a query in another language than the article).",
    )
    rerank_score: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The cross-encoder's relevance probability when `rerank` is on and re-read this query "
        "(English queries); the articles are then in its order.",
    )


class DraftOut(BaseModel):
    text: str
    language: str
    citations: list[str]
    needs_translation: bool
    tone: str


class RouteOut(BaseModel):
    queue: str
    language: str
    priority: str
    skills: list[str]
    reasons: list[str] = Field(description="Why this queue, priority and agent language were chosen.")


class RiskOut(BaseModel):
    kind: Literal[
        "security_incident", "safety_hazard", "threat", "legal_request", "fraud", "distress", "human_requested"
    ] = Field(description="The kind of risk; also the handoff reason code it adds.")
    confidence: float = Field(ge=0, le=1)
    evidence: list[str] = Field(description="Which lexicon patterns (by id) or the risk head fired; never the text.")


class HandoffOut(BaseModel):
    required: bool
    reasons: list[str]
    details: list[str]


class TriageOut(BaseModel):
    id: str
    kb: str = Field(description="The knowledge base its articles and draft come from.")
    language: LanguageOut
    sentiment: SentimentOut | None
    urgency: PredictionOut | None
    topic: PredictionOut
    entities: list[SpanOut]
    pii: list[SpanOut]
    articles: list[ArticleOut]
    answer_confidence: float | None = Field(
        ge=0, le=1, description="The top article's answer confidence (0 without articles, null if retrieval failed)."
    )
    draft: DraftOut | None
    route: RouteOut
    handoff: HandoffOut
    risk: list[RiskOut] = Field(description="Risks in the ticket or its earlier customer messages; each hands it off.")
    failed_stages: list[str]
    timings_ms: dict[str, float]


class BatchOut(BaseModel):
    results: list[TriageOut]


class SuggestOut(BaseModel):
    query: str
    kb: str
    language: str
    articles: list[ArticleOut]
    answer_confidence: float = Field(
        ge=0, le=1, description="The top article's answer confidence: below the threshold, suggest contacting support."
    )


class FeedbackIn(BaseModel):
    """An agent's verdict on a triage result: corrections and ratings, at least one of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "3f2a9c0e5b7d4e1f8a6b2c4d0e9f1a2b",
                    "agent_id": "agent-17",
                    "topic": "billing",
                    "urgency": "high",
                    "article_id": "billing-refunds",
                    "article_helped": False,
                    "draft_helped": True,
                }
            ]
        },
    )

    ticket_id: str = Field(min_length=1, max_length=64, description="The `id` of a triage result.")
    agent_id: str = Field(min_length=1, max_length=200, description="Who gave the feedback, for the audit trail.")
    topic: str | None = Field(default=None, min_length=1, max_length=100, description="The topic it should have had.")
    urgency: Urgency | None = Field(default=None, description="The urgency it should have had.")
    handoff: bool | None = Field(default=None, description="Whether a person should have taken over.")
    article_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The id of a suggested article being rated."
    )
    article_helped: bool | None = Field(default=None, description="Whether that article answered the ticket.")
    draft_helped: bool | None = Field(default=None, description="Whether the drafted reply was usable.")
    comment: str | None = Field(default=None, max_length=5_000)


class FeedbackOut(BaseModel):
    id: str
    ticket_id: str
    created_at: str


class ErrorBody(BaseModel):
    code: str
    field: str | None
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
