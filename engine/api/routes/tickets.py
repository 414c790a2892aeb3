"""A logged ticket's status and stored result: how a helpdesk (or an operator) sees a ticket finish after a fault.

Read with the ``triage`` scope (the integration that sent the ticket) or ``admin``. By Sift's id, or by the
helpdesk's ``external_id`` within the caller's source (its API key's name).
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
from engine.api.schemas import ErrorOut
from engine.errors import NotFound
from engine.input_text import clean_string

router = APIRouter(prefix="/v1", tags=["tickets"], dependencies=[Depends(require("triage", "admin"))])
RESPONSES: dict[int | str, dict[str, Any]] = {**ERRORS, 404: {"model": ErrorOut}}


class TicketStatus(BaseModel):
    """A ticket as the log keeps it: masked, like everything stored."""

    id: str
    external_id: str | None
    status: Literal["accepted", "processed", "failed"] = Field(
        description="accepted: stored, being triaged (or waiting for recovery after a crash); processed: `result` "
        "is final; failed: `error` says why (sending it again under its external_id triages it again)."
    )
    received_at: str
    processed_at: str | None
    attempts: int = Field(description="How many times a process took it up (more than 1: after a crash or a retry).")
    result: dict[str, Any] | None = Field(description="The stored triage result (masked as the log keeps it).")
    error: str | None


def _status(row: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if row is None:
        raise NotFound(f"no ticket {what} in the ticket log")
    return {name: row[name] for name in TicketStatus.model_fields}


@router.get("/tickets/{ticket_id}", response_model=TicketStatus, responses=RESPONSES)
async def ticket(
    service: ServiceDep, ticket_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
) -> dict[str, Any]:
    """The ticket's status and, once processed, its stored result."""
    return _status(await run_in_threadpool(service.store.get, ticket_id), repr(ticket_id))


@router.get("/tickets", response_model=TicketStatus, responses=RESPONSES)
async def ticket_by_external_id(
    request: Request,
    service: ServiceDep,
    external_id: Annotated[str, Query(min_length=1, max_length=200, description="Your helpdesk's id of the ticket.")],
) -> dict[str, Any]:
    """The ticket sent under ``external_id`` by the caller's source: after a crash, has it been triaged?"""

    wanted = clean_string(external_id, "external_id")  # a NUL must never reach PostgreSQL

    def find() -> dict[str, Any] | None:
        ticket_id = service.store.claims.lookup(source_of(request), wanted)
        return service.store.get(ticket_id) if ticket_id else None

    return _status(await run_in_threadpool(find), f"with external_id {external_id!r}")
