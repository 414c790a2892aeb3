"""Self-service article suggestions for customers: public articles only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from engine.api.auth import require
from engine.api.deps import ServiceDep
from engine.api.routes.triage import ERRORS
from engine.api.schemas import ErrorOut, json_response
from engine.types import ArticleText, Suggestion

router = APIRouter(prefix="/v1/articles", tags=["articles"], dependencies=[Depends(require("suggest"))])


@router.get("/suggest", response_model=Suggestion, responses=ERRORS)
async def suggest(
    service: ServiceDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="The customer's question.")],
    lang: Annotated[str | None, Query(pattern=r"^[a-zA-Z]{2,3}$", description="Preferred article language.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=50)] = None,
    product: Annotated[list[str] | None, Query(description="Only articles about these products.")] = None,
    tag: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=100)]] | None,
        Query(description="Only articles carrying one of these front matter tags (any case)."),
    ] = None,
    article_language: Annotated[
        list[Annotated[str, Query(pattern=r"^[a-zA-Z]{2,3}$")]] | None,
        Query(description="Only articles written in one of these languages (lang only prefers one)."),
    ] = None,
    kb: Annotated[
        str | None, Query(max_length=64, description="Which knowledge base (brand, tenant); default: default_kb.")
    ] = None,
) -> Response:
    """Articles a customer can read before (or instead of) filing a ticket, in their language where one exists."""
    suggestion = await run_in_threadpool(
        service.suggest,
        q,
        lang.lower() if lang else None,
        limit or service.settings.top_k_articles,
        product or [],
        kb,
        tag or [],
        article_language or [],
    )
    return json_response(suggestion)


@router.get(
    "/{article_id}",
    response_model=ArticleText,
    responses={**ERRORS, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
async def article(
    service: ServiceDep,
    article_id: Annotated[str, Path(min_length=1, max_length=200)],
    language: Annotated[
        str, Query(pattern=r"^[a-zA-Z]{2,3}$", description="The language to read it in (ISO 639-1).")
    ],
    kb: Annotated[
        str | None, Query(max_length=64, description="Which knowledge base (brand, tenant); default: default_kb.")
    ] = None,
) -> Response:
    """A public article in the reader's language: the KB's own translation where it has one, else a machine
    translation (``translation`` names the backend); 404 for an unknown article, 409 when no backend can."""
    text = await run_in_threadpool(service.article, article_id, language, kb)
    return json_response(text)
