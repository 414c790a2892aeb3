"""The help widget's own calls: a visitor's ticket, what visitors did (for deflection figures), and the figures.

Both visitor endpoints take a widget key (the ``suggest`` scope, limited to the sites it names: ``cors.py``) or,
with no key ever created, nobody's. A ticket sent from the widget goes through triage like any other, but the
page gets back only what a visitor may read: its reference, the acknowledgement and whether a person takes it
over at once; never the topic, the queue, the risks or the draft.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.api.auth import require
from engine.api.deps import EventsDep, MetricsDep, ServiceDep
from engine.api.routes.triage import ERRORS
from engine.errors import InvalidInput
from engine.service import TriageService
from engine.store.keys import normalise_origin
from engine.store.widget_events import EventKind, WidgetEvent
from engine.types import Ticket

router = APIRouter(prefix="/v1/widget", tags=["widget"])
reports = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[Depends(require("admin"))])

# Deliberately loose (one @, a dot in the domain, no spaces): the address is only hashed into customer_id.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
LANGUAGE = r"^[a-zA-Z]{2,3}$"
SESSION = r"^[A-Za-z0-9_-]{8,64}$"
ARTICLE_KINDS = ("open", "helped", "not_helped")


def _email(value: str) -> str:
    value = value.strip()
    if not EMAIL.fullmatch(value):
        raise ValueError("must be an e-mail address such as name@example.com")
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace characters")
    return value


class WidgetTicketIn(BaseModel):
    """What a visitor sends from the widget's contact form."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "ana@example.com", "message": "Ne mogu se prijaviti, poveznica ne stiže.", "language": "hr"}
            ]
        },
    )

    email: Annotated[str, AfterValidator(_email), Field(max_length=254, description="Where the answer goes.")]
    message: Annotated[str, AfterValidator(_non_blank), Field(min_length=1, max_length=10_000)]
    language: Annotated[str, Field(pattern=LANGUAGE, description="The widget's language (ISO 639-1).")]
    name: Annotated[str | None, Field(max_length=200)] = None
    session: Annotated[
        str | None, Field(pattern=SESSION, description="The visit's random id, to count contacts after a search.")
    ] = None
    kb: Annotated[str | None, Field(max_length=64)] = None


class WidgetTicketOut(BaseModel):
    id: str = Field(description="The ticket's reference.")
    acknowledgement: str | None = Field(description="The auto-reply in the visitor's language, with the answer time.")
    language: str
    handoff: bool = Field(description="A person takes it over at once (a risk, an escalation rule).")


class WidgetEventIn(BaseModel):
    """One thing a visitor did; no text they typed."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    session: Annotated[str, Field(pattern=SESSION, description="A random id the page draws per visit.")]
    language: Annotated[str, Field(pattern=LANGUAGE)]
    article_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    results: Annotated[int | None, Field(ge=0, le=100, description="search: how many articles were shown.")] = None
    handoff: Annotated[bool | None, Field(description="search: a person was offered instead of articles.")] = None
    kb: Annotated[str | None, Field(max_length=64)] = None


def public_article(service: TriageService, article_id: str, kb: str | None) -> None:
    """Refuses an id that names no public article of the KB: the figures count articles a visitor could read."""
    name = service.pipeline.knowledge_bases.resolve(kb).name
    article = service.pipeline.knowledge_bases.retriever(name).index.articles.get(article_id)
    if article is None or article.audience != "public":
        raise InvalidInput("article_id", f"no public article {article_id!r} in the knowledge base {name!r}")


def _page_origin(request: Request) -> str | None:
    try:
        return normalise_origin(request.headers["origin"], "Origin") if "origin" in request.headers else None
    except InvalidInput:
        return None


@router.post(
    "/tickets", response_model=WidgetTicketOut, status_code=201, responses=ERRORS,
    dependencies=[Depends(require("suggest", "triage"))],
)
async def widget_ticket(
    body: WidgetTicketIn, request: Request, service: ServiceDep, metrics: MetricsDep, events: EventsDep
) -> WidgetTicketOut:
    """A visitor's message from the contact form, triaged like any ticket; the answer holds only its reference,
    the localised acknowledgement and whether a person takes it over at once."""
    language = body.language.lower()
    ticket = Ticket(
        text=body.message, channel="web", locale=language, customer_name=body.name or None,
        customer_id=body.email.lower(), kb=body.kb, metadata={"source": "widget"},
    )
    start = time.perf_counter()
    try:
        result = (await run_in_threadpool(service.triage, [ticket]))[0]
    except InvalidInput as exc:  # the service names the ticket's fields; the visitor sent the form's
        field = {"text": "message", "customer_id": "email", "customer_name": "name"}.get(exc.field, exc.field)
        raise InvalidInput(field, exc.message) from None
    metrics.observe(service.tenant, "triage", time.perf_counter() - start, [result])
    if body.session:
        event = WidgetEvent("contact", body.session, language, result.kb, origin=_page_origin(request))
        await run_in_threadpool(events.record, event)
    ack = result.automations
    return WidgetTicketOut(
        id=result.id,
        acknowledgement=ack.acknowledgement if ack else None,
        language=ack.language if ack else language,
        handoff=result.handoff.required,
    )


@router.post("/events", status_code=201, responses=ERRORS, dependencies=[Depends(require("suggest"))])
async def widget_event(body: WidgetEventIn, request: Request, service: ServiceDep, events: EventsDep) -> dict[str, str]:
    """Records that suggestions were shown, an article opened, "did this help?" answered; for deflection figures."""
    kb = service.pipeline.knowledge_bases.resolve(body.kb, "kb").name if body.kb is not None else None
    if body.article_id is not None:
        public_article(service, body.article_id, kb)
    if body.kind in ARTICLE_KINDS and body.article_id is None:
        raise InvalidInput("article_id", f"is required for {body.kind} events")
    if body.kind not in ARTICLE_KINDS and body.article_id is not None:
        raise InvalidInput("article_id", f"belongs to open, helped and not_helped events, not to {body.kind} events")
    if body.kind != "search" and (body.results is not None or body.handoff is not None):
        raise InvalidInput("results" if body.results is not None else "handoff", "belongs to search events only")
    event = WidgetEvent(
        body.kind, body.session, body.language.lower(), kb, body.article_id, body.results, body.handoff,
        _page_origin(request),
    )
    return {"id": await run_in_threadpool(events.record, event)}


@reports.get("/deflection", responses=ERRORS)
async def deflection(
    events: EventsDep,
    since: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Only events on or after this date (UTC).")
    ] = None,
    kb: Annotated[str | None, Query(max_length=64, description="Only events of this knowledge base.")] = None,
) -> dict[str, Any]:
    """Self-service figures from the widget and the help centre, overall and per language: searches, article
    opens, "did this help?" answers, contacts after a search, and the deflection rate (visits that searched and
    sent no contact form, of all that searched). Admin scope."""
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise InvalidInput("since", f"not a date: {since!r}") from None
    return await run_in_threadpool(events.deflection, since, kb)
