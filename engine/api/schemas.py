"""The API's own request and response schemas: those with no twin among the dataclasses of ``engine/types.py``.

A ticket and a triage result are validated into and serialised from those dataclasses directly.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from engine.result_shape import to_json
from engine.types import RESULT_CONFIG, Suggestion, Ticket, TriageResult, Urgency


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[Ticket] = Field(min_length=1)


class BatchOut(BaseModel):
    model_config = RESULT_CONFIG

    results: list[TriageResult]


def json_response(value: TriageResult | Suggestion | BatchOut) -> Response:
    """``value`` sent as it is: the route's ``response_model`` only documents it, nothing validates it again."""
    return Response(content=to_json(value), media_type="application/json")


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
    draft_action: Literal["sent", "discarded"] | None = Field(
        default=None, description="What the agent did with the drafted reply."
    )
    sent_text: str | None = Field(
        default=None,
        max_length=50_000,
        description="With draft_action 'sent': the reply as sent. Only its normalised edit distance from the stored "
        "draft is kept (the text is personal data and is never stored).",
    )
    draft_edit_distance: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="With draft_action 'sent', instead of sent_text: the normalised Levenshtein distance between "
        "draft and sent reply, computed by the caller (0 = sent as drafted).",
    )


class FeedbackOut(BaseModel):
    id: str
    ticket_id: str
    created_at: str


class FeedbackRow(BaseModel):
    """A stored feedback as the table holds it (a row an older taxonomy wrote is listed too, to be deleted)."""

    id: str
    ticket_id: str
    created_at: str
    agent_id: str | None
    topic: str | None
    urgency: str | None
    handoff: bool | None
    article_id: str | None
    article_helped: bool | None
    draft_helped: bool | None
    comment: str | None
    draft_action: str | None
    draft_edit_distance: float | None


class FeedbackList(BaseModel):
    items: list[FeedbackRow]
    total: int = Field(description="How many rows match the filters, on every page.")
    next_offset: int | None = Field(description="The `offset` of the next page; null on the last.")


class ErrorBody(BaseModel):
    code: str
    field: str | None
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
