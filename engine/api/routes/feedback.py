"""Agents' corrections of triage results: the data that makes the next model better."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, status
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.deps import ServiceDep
from engine.api.routes.triage import ERRORS
from engine.api.schemas import FeedbackIn, FeedbackOut

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(require("feedback"))])


@router.post("/feedback", status_code=status.HTTP_201_CREATED, response_model=FeedbackOut, responses=ERRORS)
async def feedback(body: FeedbackIn, service: ServiceDep) -> dict[str, Any]:
    """Record what the triage of a ticket should have said (topic, urgency, handoff) and what helped."""
    return await run_in_threadpool(service.record_feedback, body.model_dump())
