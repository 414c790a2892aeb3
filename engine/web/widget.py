"""The customer help widget (``/widget.js``, its preview page ``/widget``) and the standalone help centre (``/help``).

The help centre works without JavaScript: search is a GET form (``/help?q=...&lang=...``), "did this help?" and
the contact form are POST forms, and each answer is a whole page; ``help.js`` only adds search-as-you-type. The
pages show public articles only, like ``/v1/articles/suggest``, and need no key (Sift serves them itself, so no
key would be secret in them); they record the same events as the widget, with a random per-visit id carried in
their links and forms instead of a cookie.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import replace
from functools import cache
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt

from engine.api.deps import get_service, get_widget_events
from engine.api.routes.widget_api import EMAIL, SESSION, public_article
from engine.errors import Forbidden, InvalidInput, NotFound, TranslationUnavailable
from engine.settings import DEFAULT_TENANT
from engine.store.widget_events import WidgetEvent
from engine.types import ArticleHit, Suggestion, Ticket
from engine.web import catalog
from engine.web.templating import WEB_DIR, templates

router = APIRouter(tags=["pages"], include_in_schema=False)

SUGGESTIONS = 5
# What the help centre and the widget (widget.js) list: an article at least this confident, and at least a tenth
# as confident as the best one (the rest merely shares words with the question); when none is, the best few.
MIN_CONFIDENCE = 0.01
FALLBACK_SHOWN = 3
MAX_QUERY = 500
MAX_FORM_BYTES = 64_000
_SESSION = re.compile(SESSION)
# Articles are Markdown written by the helpdesk; raw HTML in them is shown as text, never run.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


@cache
def widget_script() -> str:
    """``static/widget.js`` with the catalog and the language names filled in: one file, one request."""
    source = (WEB_DIR / "static" / "widget.js").read_text(encoding="utf-8")
    strings = json.dumps(catalog.catalog(), ensure_ascii=False)
    names = json.dumps(catalog.ENDONYMS, ensure_ascii=False)
    return source.replace("{/*SIFT_STRINGS*/}", strings).replace("{/*SIFT_ENDONYMS*/}", names)


@router.get("/widget.js")
async def widget_js() -> Response:
    """The embeddable widget; cached for an hour by browsers (a release changes it rarely)."""
    return Response(
        widget_script(), media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _page_language(request: Request, asked: str | None) -> str:
    return catalog.negotiate(asked, request.headers.get("accept-language"))


def _session(value: str | None) -> str:
    """The visit's id from the page's link or form, or a new random one."""
    return value if value and _SESSION.fullmatch(value) else secrets.token_hex(12)


def _for_tenant(request: Request, name: str | None) -> None:
    """Serve this page for the tenant its link or form names (``tenant``), the default one without; pages need no
    key, so the name is the only way a tenant's help centre is told apart."""
    if not name:
        return
    services = request.app.state.services
    if services and name not in services:
        raise NotFound(f"no help centre {name!r} here")
    request.state.tenant = name


def _context(request: Request, language: str, sid: str, **values: Any) -> dict[str, Any]:
    tenant = getattr(request.state, "tenant", None)
    return {
        "request": request, "lang": language, "t": catalog.strings(language), "sid": sid,
        "tenant": tenant if tenant and tenant != DEFAULT_TENANT else "",
        "languages": [(code, catalog.ENDONYMS[code]) for code in catalog.languages()], **values,
    }


@router.get("/widget", response_class=HTMLResponse)
async def widget_preview(request: Request, lang: str | None = None, key: str | None = None) -> HTMLResponse:
    """The widget on a page of Sift's own, for admins to try it (``?key=`` a widget key when keys exist)."""
    language = _page_language(request, lang)
    context = _context(request, language, "", key=key or "", forced=catalog.supported(lang) or "")
    return templates.TemplateResponse(request, "widget_preview.html", context)


async def _suggest(request: Request, q: str, language: str) -> Suggestion:
    service = await get_service(request)
    suggestion: Suggestion = await run_in_threadpool(service.suggest, q, language, SUGGESTIONS, [])
    return replace(suggestion, articles=relevant(suggestion.articles))


def relevant(articles: tuple[ArticleHit, ...]) -> tuple[ArticleHit, ...]:
    """The articles worth listing (``MIN_CONFIDENCE``), best first."""
    if not articles:
        return articles
    floor = max(MIN_CONFIDENCE, articles[0].answer_confidence / 10)
    kept = tuple(a for a in articles if a.answer_confidence >= floor)
    return kept or articles[:FALLBACK_SHOWN]


@router.get("/help", response_class=HTMLResponse)
async def help_centre(
    request: Request, q: str | None = None, lang: str | None = None, sid: str | None = None,
    partial: int = 0, final: int = 0, tenant: str | None = None,
) -> HTMLResponse:
    """The help centre: a search form, and its results for ``q``; ``partial=1`` answers only the results (what
    ``help.js`` swaps in as the visitor types), ``final=1`` says the visitor stopped typing (recorded)."""
    _for_tenant(request, tenant)
    language = _page_language(request, lang)
    session = _session(sid)
    query = (q or "").strip()[:MAX_QUERY]
    suggestion = await _suggest(request, query, language) if query else None
    if suggestion is not None and (not partial or final):
        event = WidgetEvent("search", session, language, suggestion.kb, results=len(suggestion.articles),
                            handoff=suggestion.handoff, origin=None)
        await run_in_threadpool((await get_widget_events(request)).record, event)
    context = _context(request, language, session, q=query, suggestion=suggestion, errors={}, values={})
    return templates.TemplateResponse(request, "help_results.html" if partial else "help.html", context)


@router.get("/help/articles/{article_id}", response_class=HTMLResponse)
async def help_article(
    request: Request, article_id: str, lang: str | None = None, sid: str | None = None, q: str | None = None,
    helped: str | None = None, tenant: str | None = None,
) -> HTMLResponse:
    """One article in the visitor's language (the KB's own translation, else a machine one, else as written)."""
    _for_tenant(request, tenant)
    language = _page_language(request, lang)
    session = _session(sid)
    service = await get_service(request)
    try:
        article = await run_in_threadpool(service.article, article_id, language)
    except TranslationUnavailable:
        article = await run_in_threadpool(service.article, article_id, article_id_language(service, article_id))
    if helped is None:
        event = WidgetEvent("open", session, language, article.kb, article_id=article_id)
        await run_in_threadpool((await get_widget_events(request)).record, event)
    context = _context(
        request, language, session, article=article, body=_markdown.render(article.body), q=(q or "")[:MAX_QUERY],
        helped=helped, machine=article.translation not in ("original", "kb"), errors={}, values={},
    )
    return templates.TemplateResponse(request, "help_article.html", context)


def article_id_language(service: Any, article_id: str) -> str:
    """The language an article is written in (for showing it as written when no translation is at hand)."""
    knowledge_base = service.pipeline.knowledge_bases.resolve(None)
    article = service.pipeline.knowledge_bases.retriever(knowledge_base.name).index.articles.get(article_id)
    if article is None:
        raise NotFound(f"no public article {article_id!r}")
    return str(article.language)


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded form's fields (the first value of each), without python-multipart.

    Only from Sift's own pages: a form another site posts (its ``Origin`` is not ours) is refused, so no page
    elsewhere can file tickets or answers through a visitor's browser.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != f"{request.url.scheme}://{request.headers.get('host', '')}".lower():
        raise Forbidden(f"Origin: {origin!r} is not this help centre; its forms are posted from its own pages")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("body", f"is {len(body)} bytes; the limit is {MAX_FORM_BYTES}")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


@router.post("/help/articles/{article_id}/helped")
async def help_helped(request: Request, article_id: str) -> RedirectResponse:
    """"Did this help?" from the article page's form; back to the article, thanked."""
    form = await _form(request)
    _for_tenant(request, form.get("tenant"))
    public_article(await get_service(request), article_id, None)
    answer = form.get("helped")
    if answer not in ("yes", "no"):
        raise InvalidInput("helped", "must be yes or no")
    language = _page_language(request, form.get("lang"))
    session = _session(form.get("sid"))
    event = WidgetEvent("helped" if answer == "yes" else "not_helped", session, language, article_id=article_id)
    await run_in_threadpool((await get_widget_events(request)).record, event)
    query = urlencode({
        "lang": language, "sid": session, "q": form.get("q", "")[:MAX_QUERY], "helped": answer,
        **({"tenant": form["tenant"]} if form.get("tenant") else {}),
    })
    return RedirectResponse(f"/help/articles/{quote(article_id, safe='')}?{query}#feedback", status_code=303)


@router.post("/help/contact", response_class=HTMLResponse)
async def help_contact(request: Request) -> HTMLResponse:
    """The contact form: triaged like any ticket; the page shows the acknowledgement, or the form again with
    each wrong field named next to it."""
    form = await _form(request)
    _for_tenant(request, form.get("tenant"))
    language = _page_language(request, form.get("lang"))
    session = _session(form.get("sid"))
    values = {name: form.get(name, "") for name in ("email", "name", "message")}
    t = catalog.strings(language)
    errors = {}
    if not EMAIL.fullmatch(values["email"].strip()) or len(values["email"]) > 254:
        errors["email"] = t["bad_email"]
    if not values["message"].strip() or len(values["message"]) > 10_000:
        errors["message"] = t["bad_message"]
    if errors:
        context = _context(request, language, session, q=values["message"], suggestion=None, errors=errors,
                           values=values)
        return templates.TemplateResponse(request, "help.html", context, status_code=422)
    service = await get_service(request)
    ticket = Ticket(
        text=values["message"], channel="web", locale=language, customer_name=values["name"].strip() or None,
        customer_id=values["email"].strip().lower(), metadata={"source": "help_centre"},
    )
    result = (await run_in_threadpool(service.triage, [ticket]))[0]
    await run_in_threadpool((await get_widget_events(request)).record, WidgetEvent("contact", session, language, result.kb))
    ack = result.automations
    context = _context(
        request, language, session, ticket_id=result.id, ack=ack.acknowledgement if ack else t["sent"],
        ack_language=ack.language if ack else language,
    )
    return templates.TemplateResponse(request, "help_sent.html", context, status_code=201)
