"""Ticket triage, one at a time or in batches."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require, secret_of
from engine.api.deps import MetricsDep, ServiceDep
from engine.api.schemas import BatchIn, BatchOut, ErrorOut, json_response
from engine.errors import InvalidInput
from engine.idempotency import NO_SOURCE
from engine.input_text import clean_string
from engine.types import Ticket, TriageResult

router = APIRouter(prefix="/v1", tags=["triage"], dependencies=[Depends(require("triage"))])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}
}
TRIAGE_ERRORS = {**ERRORS, 409: {"model": ErrorOut}}
IDEMPOTENCY_KEY = "Idempotency-Key"


def source_of(request: Request) -> str:
    """Whose ticket ids these are: the API key's name (a rotated key keeps it), or '' on an open API."""
    key = request.app.state.auth.lookup(secret_of(request))
    return key.name if key is not None else NO_SOURCE


def _with_header_key(ticket: Ticket, request: Request) -> Ticket:
    """The ticket with the ``Idempotency-Key`` header as its external id (they must agree when both are sent)."""
    given = request.headers.get(IDEMPOTENCY_KEY)
    if given is None:
        return ticket
    value = clean_string(given, IDEMPOTENCY_KEY).strip()
    if not value or len(value) > 200:
        raise InvalidInput(IDEMPOTENCY_KEY, "must be 1 to 200 characters, not blank")
    if ticket.external_id is not None and ticket.external_id != value:
        raise InvalidInput(IDEMPOTENCY_KEY, f"differs from the body's external_id {ticket.external_id!r}; send one")
    return replace(ticket, external_id=value)


@router.post("/triage", response_model=TriageResult, responses=TRIAGE_ERRORS)
async def triage(ticket: Ticket, request: Request, service: ServiceDep, metrics: MetricsDep) -> Response:
    """Language, sentiment, urgency, topic, entities, PII, articles, a draft and a routing decision.

    With an ``external_id`` (or an ``Idempotency-Key`` header) a retry is answered from the ticket log.
    """
    start = time.perf_counter()
    ticket = _with_header_key(ticket, request)
    results = await run_in_threadpool(service.triage, [ticket], "", source_of(request))
    metrics.observe(service.tenant, "triage", time.perf_counter() - start, results)
    return json_response(results[0])


@router.post("/triage/batch", response_model=BatchOut, responses=TRIAGE_ERRORS)
async def triage_batch(batch: BatchIn, request: Request, service: ServiceDep, metrics: MetricsDep) -> Response:
    """Many tickets in one call: one batched encoder pass per `max_pipeline_batch` tickets."""
    if IDEMPOTENCY_KEY in request.headers:  # one key cannot name many tickets; ignoring it would promise too much
        raise InvalidInput(IDEMPOTENCY_KEY, "applies to POST /v1/triage only; give each ticket its external_id")
    limit = service.settings.max_batch_size
    if len(batch.tickets) > limit:
        raise InvalidInput("tickets", f"holds {len(batch.tickets)} tickets; the limit is {limit}")
    start = time.perf_counter()
    results = await run_in_threadpool(service.triage, batch.tickets, "tickets.", source_of(request))
    metrics.observe(service.tenant, "triage_batch", time.perf_counter() - start, results)
    return json_response(BatchOut(results=results))
