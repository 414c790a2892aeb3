"""Agents' corrections of triage results: the data that makes the next model better.

Recording and listing want the ``feedback`` scope (the helpdesk integration that records feedback may read it
back; ``admin`` may too). Deleting wants ``admin``: feedback is an audit trail, and an agent who changed their
mind records a newer correction, which training prefers; deleting is an operator's clean-up of bad rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.deps import ServiceDep
from engine.api.routes.triage import ERRORS
from engine.api.schemas import ErrorOut, FeedbackIn, FeedbackList, FeedbackOut

router = APIRouter(prefix="/v1", tags=["feedback"])
# Ticket and feedback ids are hex uuids: anything else names nothing, and a NUL must never reach PostgreSQL.
ID_PATTERN = r"^[0-9A-Za-z_-]+$"


@router.post(
    "/feedback", status_code=status.HTTP_201_CREATED, response_model=FeedbackOut, responses=ERRORS,
    dependencies=[Depends(require("feedback"))],
)
async def feedback(body: FeedbackIn, service: ServiceDep) -> dict[str, Any]:
    """Record what the triage of a ticket should have said (topic, urgency, handoff) and what helped."""
    return await run_in_threadpool(service.record_feedback, body.model_dump())


@router.get(
    "/feedback", response_model=FeedbackList, responses=ERRORS, dependencies=[Depends(require("feedback", "admin"))]
)
async def list_feedback(
    service: ServiceDep,
    ticket_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=ID_PATTERN, description="Only this ticket's.")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Only feedback given at or after this ISO-8601 time (UTC if no zone).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict[str, Any]:
    """Stored feedback, newest first, a page at a time."""
    page = await run_in_threadpool(service.feedback.page, ticket_id, since, limit, offset)
    more = offset + len(page.rows) < page.total and bool(page.rows)
    return {"items": page.rows, "total": page.total, "next_offset": offset + len(page.rows) if more else None}


@router.delete(
    "/feedback/{feedback_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, 404: {"model": ErrorOut}},
    dependencies=[Depends(require("admin"))],
)
async def delete_feedback(
    service: ServiceDep, feedback_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
) -> Response:
    """Delete one feedback for good (404 when there is none with that id)."""
    await run_in_threadpool(service.delete_feedback, feedback_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
