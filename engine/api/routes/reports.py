"""Reports for KB writers and operators: the gap report over the ticket log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.deps import ServiceDep
from engine.api.routes.triage import ERRORS
from engine.errors import InvalidInput
from engine.report.gaps import MIN_TICKETS

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[Depends(require("admin"))])


@router.get("/gaps", responses=ERRORS)
async def gaps(
    service: ServiceDep,
    kb: Annotated[
        str | None, Query(max_length=64, description="Which knowledge base (brand, tenant); default: default_kb.")
    ] = None,
    since: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Only tickets received on or after this date.")
    ] = None,
    min_tickets: Annotated[int, Query(ge=1, le=1000, description="A gap is reported when one of its questions was asked by at least this many tickets.")] = MIN_TICKETS,
) -> dict[str, Any]:
    """Unanswered tickets grouped by what they ask, ranked by volume × trend, each with the nearest article to
    extend; follow-ups on the previous report's gaps; near-duplicate, possibly contradictory and stale articles.
    Titles and examples are masked. Admin scope: the report reads every ticket. It may take a while on a large
    log (the tickets are encoded again)."""
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise InvalidInput("since", f"not a date: {since!r}") from None
    return await run_in_threadpool(service.gap_report, kb, since, min_tickets)
