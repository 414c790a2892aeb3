"""Ticket triage, one at a time or in batches."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.deps import MetricsDep, ServiceDep
from engine.api.schemas import BatchIn, BatchOut, ErrorOut, json_response
from engine.errors import InvalidInput
from engine.types import Ticket, TriageResult

router = APIRouter(prefix="/v1", tags=["triage"], dependencies=[Depends(require("triage"))])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}
}


@router.post("/triage", response_model=TriageResult, responses=ERRORS)
async def triage(ticket: Ticket, service: ServiceDep, metrics: MetricsDep) -> Response:
    """Language, sentiment, urgency, topic, entities, PII, articles, a draft and a routing decision."""
    start = time.perf_counter()
    results = await run_in_threadpool(service.triage, [ticket])
    metrics.latency.labels("triage").observe(time.perf_counter() - start)
    metrics.observe(results)
    return json_response(results[0])


@router.post("/triage/batch", response_model=BatchOut, responses=ERRORS)
async def triage_batch(batch: BatchIn, service: ServiceDep, metrics: MetricsDep) -> Response:
    """Many tickets in one call: one batched encoder pass per `max_pipeline_batch` tickets."""
    limit = service.settings.max_batch_size
    if len(batch.tickets) > limit:
        raise InvalidInput("tickets", f"holds {len(batch.tickets)} tickets; the limit is {limit}")
    start = time.perf_counter()
    results = await run_in_threadpool(service.triage, batch.tickets, "tickets.")
    metrics.latency.labels("triage_batch").observe(time.perf_counter() - start)
    metrics.observe(results)
    return json_response(BatchOut(results=results))
