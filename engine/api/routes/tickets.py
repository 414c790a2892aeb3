"""The ticket log as the agent console and integrations read it: tickets with their status and stored results.

Reading wants ``triage``, ``feedback`` or ``admin``: whoever submits tickets or corrects their triage may read
the log back. Texts are as the log keeps them, PII masked. The console's session cookie is accepted too
(``engine/api/auth.py``), for integrators who embed its pages. ``external_id`` finds the ticket a helpdesk sent
under its own id (within the caller's source, its API key's name): after a crash, has it been triaged?
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from engine.api.auth import require
from engine.api.deps import ServiceDep
from engine.api.routes.feedback import ID_PATTERN
from engine.api.routes.triage import ERRORS, source_of
from engine.api.schemas import ErrorOut, FeedbackRow
from engine.errors import NotFound
from engine.input_text import clean_string
from engine.store.tickets import SORT_KEYS, TicketFilter
from engine.types import RISK_KINDS, SentimentLabel, Urgency

router = APIRouter(prefix="/v1", tags=["tickets"], dependencies=[Depends(require("triage", "feedback", "admin"))])
SORT_PATTERN = rf"^-?({'|'.join(SORT_KEYS)})$"
LABEL = r"^[A-Za-z0-9_.:-]+$"
# One Literal, so a refusal names the field alone (a union names the member that failed).
RiskFilter = Literal[(*RISK_KINDS, "any", "none")]  # type: ignore[valid-type]


class TicketRow(BaseModel):
    """One logged ticket: the columns the listing filters and sorts by, the masked ticket and its result."""

    id: str
    external_id: str | None = Field(description="The helpdesk's own id the ticket was sent under, if any.")
    received_at: str
    processed_at: str | None
    channel: str | None
    status: Literal["accepted", "processed", "failed"] = Field(
        description="accepted: stored, being triaged (or waiting for recovery after a crash); processed: `result` "
        "is final; failed: `error` says why (sending it again under its external_id triages it again)."
    )
    attempts: int = Field(description="How many times a process took it up (more than 1: after a crash or a retry).")
    queue: str | None
    handoff: bool | None
    topic: str | None
    urgency: str | None
    language: str | None
    sentiment: str | None
    risks: list[str] = Field(description="The risk kinds the triage found.")
    payload: dict[str, Any] = Field(description="The ticket as the log keeps it (PII masked).")
    result: dict[str, Any] | None = Field(description="The stored triage result; null until processed.")
    error: str | None


class TicketList(BaseModel):
    items: list[TicketRow]
    total: int = Field(description="How many tickets match the filters, on every page.")
    next_offset: int | None = Field(description="The `offset` of the next page; null on the last.")


class TicketDetail(TicketRow):
    feedback: list[FeedbackRow] = Field(description="Feedback given on this ticket, newest first (up to 100).")


@router.get("/tickets", response_model=TicketList, responses=ERRORS)
async def list_tickets(
    request: Request,
    service: ServiceDep,
    external_id: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Your helpdesk's id of a ticket: that ticket alone (or none)."),
    ] = None,
    queue: Annotated[str | None, Query(max_length=100, pattern=LABEL)] = None,
    topic: Annotated[str | None, Query(max_length=100, pattern=LABEL)] = None,
    urgency: Urgency | None = None,
    language: Annotated[str | None, Query(max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")] = None,
    sentiment: SentimentLabel | None = None,
    risk: Annotated[
        RiskFilter | None,
        Query(description="A risk kind, 'any' (some risk) or 'none' (no risk)."),
    ] = None,
    handoff: Annotated[bool | None, Query(description="Only tickets handed off to a person (true) or not.")] = None,
    status: Literal["accepted", "processed", "failed"] | None = None,
    sort: Annotated[
        str, Query(pattern=SORT_PATTERN, description=f"One of {', '.join(SORT_KEYS)}; a leading '-' descends.")
    ] = "-received_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict[str, Any]:
    """Logged tickets with their stored results, filtered and sorted (newest first by default), a page at a time."""
    if external_id is not None:
        wanted = clean_string(external_id, "external_id")  # a NUL must never reach PostgreSQL

        def find() -> list[dict[str, Any]]:
            ticket_id = service.store.claims.lookup(source_of(request), wanted)
            row = service.store.listed(ticket_id) if ticket_id else None
            return [row] if row is not None else []

        rows = await run_in_threadpool(find)
        return {"items": rows, "total": len(rows), "next_offset": None}
    where = TicketFilter(queue, topic, urgency, language, sentiment, risk, handoff, status)
    page = await run_in_threadpool(service.store.page, where, sort, limit, offset)
    more = offset + len(page.rows) < page.total and bool(page.rows)
    return {"items": page.rows, "total": page.total, "next_offset": offset + len(page.rows) if more else None}


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, responses={**ERRORS, 404: {"model": ErrorOut}})
async def get_ticket(
    service: ServiceDep, ticket_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
) -> dict[str, Any]:
    """One logged ticket with its stored result and the feedback given on it (404 when there is none)."""
    return await run_in_threadpool(ticket_detail, service, ticket_id)


def ticket_detail(service: Any, ticket_id: str) -> dict[str, Any]:
    """One ticket as GET /v1/tickets/{id} and the console's ticket page show it; NotFound when there is none."""
    found = service.store.listed(ticket_id)
    if found is None:
        raise NotFound(f"no ticket {ticket_id!r} in the ticket log")
    return {**found, "feedback": service.feedback.page(ticket_id, None, 100, 0).rows}
