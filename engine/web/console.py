"""The agent console (``/console``): the triaged queue, one ticket's triage, feedback and reports.

Server-rendered pages that work without JavaScript (``engine/web/static/console.js`` only saves feedback
without reloading and fills the draft from a macro). Logging in with an API key sets the session cookie of
``engine/api/session.py``; with no key in existence the console is open, as the API is, and says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.api.deps import service_of
from engine.api.routes.tickets import ticket_detail
from engine.api.session import COOKIE, COOKIE_PATH, same_origin
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.service import TriageService
from engine.store.keys import key_hash
from engine.types import RISK_KINDS, URGENCY_LEVELS
from engine.web import views
from engine.web.agent import (
    CONSOLE_SCOPES,
    FEEDBACK_SCOPES,
    LANGUAGES_COOKIE,
    Agent,
    agent_languages,
    auth_of,
    csrf_token,
    current_agent,
    form_fields,
    parse_languages,
)
from engine.web.published import REPORT_POLICY, listing, report_path
from engine.web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
SAVED = {
    "topic": "Topic correction saved.",
    "urgency": "Urgency correction saved.",
    "article": "Article rating saved.",
    "send": "Draft marked as sent; its edit distance is recorded.",
    "discard": "Draft marked as discarded.",
}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A console page, with the headers every one carries: no caching of customers' text, a strict CSP."""
    agent: Agent | None = context.get("agent")
    response = templates.TemplateResponse(
        request, f"console/{name}",
        {"open_mode": auth_of(request).open, "csrf": csrf_token(request, agent) if agent else "", **context},
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(here, safe='')}", status_code=303)


def _safe_next(value: str | None) -> str:
    """Where to go after login: a console path of this server only (never another site)."""
    if value and value.startswith("/console") and not value.startswith("//") and not urlsplit(value).netloc:
        return value
    return "/console"


def _topics(service: TriageService) -> list[str]:
    """The active topic taxonomy, plus the out-of-scope marker an agent may also choose."""
    try:
        labels = sorted(service.pipeline.registry.require_head("topic").labels)
    except Exception:  # noqa: BLE001 - no trained head yet: nothing to correct to, the page still shows
        return []
    marker = service.settings.out_of_scope_label
    return [*labels, marker] if marker and marker not in labels else labels


@router.get("/console/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the URL's name
    if auth_of(request).open or await current_agent(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _page(request, "login.html", {"agent": None, "next": _safe_next(next), "error": None})


@router.post("/console/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the key, then set the session cookie; a wrong key re-shows the form with why (401 or 403)."""
    auth = auth_of(request)
    if same_origin(request) is False:
        raise Forbidden("log in from the console's own login page")
    fields = await form_fields(request)
    target = _safe_next(fields.get("next"))
    if auth.open:
        return RedirectResponse(target, status_code=303)
    secret = fields.get("key", "").strip()
    key = auth.lookup(secret)
    error, status = None, 200
    if key is None:
        error, status = "That key is unknown or revoked.", 401
    elif not set(CONSOLE_SCOPES) & set(key.scopes):
        error, status = f"The key {key.prefix}… may not open the console: it needs the triage, feedback or admin scope.", 403
    if error is not None or key is None or auth.sessions is None:
        return _page(request, "login.html", {"agent": None, "next": target, "error": error}, status)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, auth.sessions.issue(key_hash(secret)), max_age=auth.sessions.lifetime_s, path=COOKIE_PATH,
        secure=request.url.scheme == "https", httponly=True, samesite="strict",
    )
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    if same_origin(request) is False:
        raise Forbidden("log out from the console's own pages")
    response = RedirectResponse("/console/login" if not auth_of(request).open else "/console", status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


@router.get("/console", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    """The ticket log as a sortable, filterable table; the URL's parameters keep the filters."""
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    service = service_of(request)
    query = views.QueueQuery.parse(dict(request.query_params))
    try:
        page = await run_in_threadpool(service.store.page, query.where(), query.sort, views.PAGE_SIZE, query.offset)
    except InvalidInput:
        query = views.QueueQuery({}, "-received_at", 0)
        page = await run_in_threadpool(service.store.page, query.where(), query.sort, views.PAGE_SIZE, 0)
    choices = {
        "queue": await run_in_threadpool(service.store.values, "queue"),
        "language": await run_in_threadpool(service.store.values, "language"),
        "topic": _topics(service),
        "urgency": list(URGENCY_LEVELS),
        "sentiment": ["negative", "neutral", "positive"],
        "risk": ["any", "none", *RISK_KINDS],
        "status": ["processed", "accepted", "failed"],
        "handoff": ["yes", "no"],
    }
    rows = [{**row, "excerpt": views.excerpt(row["payload"])} for row in page.rows]
    return _page(request, "queue.html", {
        "agent": agent, "query": query, "rows": rows, "total": page.total, "choices": choices, "nav": "queue",
        "page_size": views.PAGE_SIZE, "languages": agent_languages(request), "title": "Queue",
    })


@router.get("/console/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: str) -> Response:
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    service = service_of(request)
    if not ticket_id.isalnum() or len(ticket_id) > 64:
        raise NotFound(f"no ticket {ticket_id!r} in the ticket log")
    ticket = await run_in_threadpool(ticket_detail, service, ticket_id)
    result = ticket["result"] or {}
    languages = agent_languages(request)
    notice = SAVED.get(request.query_params.get("saved", ""))
    failed = request.query_params.get("failed")
    return _page(request, "ticket.html", {
        "agent": agent, "t": ticket, "r": result, "nav": "queue", "title": views.excerpt(ticket["payload"]),
        "conversation": views.conversation(ticket["payload"], ticket["result"]),
        "show_gist": views.needs_gist(ticket["result"], languages), "languages": languages,
        "topics": _topics(service), "out_of_scope": service.settings.out_of_scope_label,
        "urgencies": URGENCY_LEVELS, "percent": views.percent,
        "ratings": views.article_ratings(ticket["feedback"]), "summary": views.feedback_summary,
        "may_feedback": agent.can(*FEEDBACK_SCOPES),
        "notice": notice, "failed": f"Not saved: check the {failed}." if failed in _FORM_FIELDS else None,
    })


_FORM_FIELDS = ("topic", "urgency", "article_id", "sent_text", "draft_action", "ticket_id", "body", "csrf")


def _feedback_payload(ticket_id: str, agent: Agent, fields: dict[str, str]) -> dict[str, Any]:
    """The feedback one console button stands for, as POST /v1/feedback takes it."""
    kind = fields.get("kind", "")
    payload: dict[str, Any] = {"ticket_id": ticket_id, "agent_id": agent.name}
    if kind == "topic":
        payload["topic"] = fields.get("topic") or None
    elif kind == "urgency":
        payload["urgency"] = fields.get("urgency") or None
        if payload["urgency"] not in URGENCY_LEVELS:
            raise InvalidInput("urgency", f"must be one of {', '.join(URGENCY_LEVELS)}")
    elif kind == "article":
        if fields.get("helped") not in ("yes", "no"):
            raise InvalidInput("article_id", "say whether the article helped: helped=yes or helped=no")
        payload.update(article_id=fields.get("article_id") or None, article_helped=fields["helped"] == "yes")
    elif kind == "send":
        payload.update(draft_action="sent", sent_text=fields.get("draft", ""))
    elif kind == "discard":
        payload["draft_action"] = "discarded"
    else:
        raise InvalidInput("kind", "one of topic, urgency, article, send, discard")
    return payload


@router.post("/console/tickets/{ticket_id}/feedback")
async def ticket_feedback(request: Request, ticket_id: str) -> Response:
    """One click of feedback, stored with the agent's key name as agent_id.

    Answers JSON to the page's script (``Accept: application/json``), else redirects back to the ticket page
    with what was saved (the form works without JavaScript).
    """
    agent = await current_agent(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    if agent is None:
        return _to_login(request) if not wants_json else JSONResponse(
            {"error": {"code": "unauthorized", "field": None, "message": "log in again"}}, status_code=401
        )
    fields = await form_fields(request)
    if not auth_of(request).csrf_ok(request, fields.get("csrf")):
        raise Forbidden("feedback must be given from the console's own pages")
    if not agent.can(*FEEDBACK_SCOPES):
        raise Forbidden(f"the key {agent.name} lacks the scope 'feedback' or 'admin' needed to give feedback")
    if not ticket_id.isalnum() or len(ticket_id) > 64:
        raise NotFound(f"no ticket {ticket_id!r} in the ticket log")
    service = service_of(request)
    kind = fields.get("kind", "")
    try:
        saved = await run_in_threadpool(service.record_feedback, _feedback_payload(ticket_id, agent, fields))
    except InvalidInput as exc:
        if wants_json:
            raise
        return RedirectResponse(f"/console/tickets/{ticket_id}?failed={quote(exc.field)}", status_code=303)
    if wants_json:
        return JSONResponse({**saved, "message": SAVED.get(kind, "Saved."), "agent_id": agent.name}, status_code=201)
    return RedirectResponse(f"/console/tickets/{ticket_id}?saved={quote(kind)}", status_code=303)


@router.post("/console/preferences")
async def preferences(request: Request) -> Response:
    """The languages the agent reads, kept in a cookie: tickets in others show the machine gist beside them."""
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    fields = await form_fields(request)
    if not auth_of(request).csrf_ok(request, fields.get("csrf")):
        raise Forbidden("preferences must be saved from the console's own pages")
    codes = parse_languages(fields.get("languages", ""))
    if not codes:
        raise InvalidInput("languages", "name one or more language codes, such as 'en, de'")
    response = RedirectResponse(_safe_next(fields.get("next")), status_code=303)
    response.set_cookie(
        LANGUAGES_COOKIE, ".".join(codes), max_age=365 * 86400, path=COOKIE_PATH,
        secure=request.url.scheme == "https", httponly=True, samesite="strict",
    )
    return response


@router.get("/console/reports", response_class=HTMLResponse)
async def reports(request: Request) -> Response:
    """Published HTML reports, the draft-edit figures, and the gap report on demand."""
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    service = service_of(request)
    edits = await run_in_threadpool(service.feedback.draft_edits)
    return _page(request, "reports.html", {
        "agent": agent, "nav": "reports", "title": "Reports", "edits": edits, "percent": views.percent,
        "published": listing(service.settings.reports_dir), "reports_dir": service.settings.reports_dir,
        "may_gaps": agent.can("admin"),
    })


@router.get("/console/reports/files/{name}")
async def report_file(request: Request, name: str) -> Response:
    """One published report, read-only, sandboxed (it cannot act as the console)."""
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    path = report_path(service_of(request).settings.reports_dir, name)
    return FileResponse(path, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": REPORT_POLICY, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
    })


@router.get("/console/reports/gaps", response_class=HTMLResponse)
async def gaps_page(request: Request) -> Response:
    """The gap report computed now from the ticket log (admin keys: it reads every ticket, as /v1/reports/gaps)."""
    agent = await current_agent(request)
    if agent is None:
        return _to_login(request)
    if not agent.can("admin"):
        raise Forbidden("the gap report needs a key with the admin scope")
    service = service_of(request)
    report = await run_in_threadpool(service.gap_report, None, None, 2)
    return _page(request, "gaps.html", {"agent": agent, "nav": "reports", "title": "KB gaps", "report": report})

