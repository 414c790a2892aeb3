"""Every error becomes one JSON shape, naming the field; no stack trace reaches a client."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    ModelError,
    NotFound,
    NotReady,
    RateLimited,
    SiftError,
    TranslationUnavailable,
    Unauthorized,
)

log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "field": field, "message": message}}, headers=headers
    )


def _field_of(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return error_response(400, "invalid_json", "the request body is not valid JSON", "body")
    field = _field_of(tuple(first.get("loc", ())))
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):  # the latter: a dataclass body (a Ticket)
        return error_response(422, "unknown_field", f"{field}: unknown field", field)
    if kind == "missing":
        return error_response(422, "missing_field", f"{field}: field required", field)
    return error_response(422, "invalid_input", f"{field}: {first.get('msg', 'invalid value')}", field)


async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
    return error_response(422, "invalid_input", exc.message and f"{exc.field}: {exc.message}", exc.field)


async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
    return error_response(409, "conflict", f"{exc.field}: {exc.message}", exc.field)


async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return error_response(503, "not_ready", str(exc), headers=headers)


async def _unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
    return error_response(401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})


async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
    return error_response(403, "forbidden", str(exc))


async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    return error_response(429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)})


async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
    return error_response(404, "not_found", str(exc))


async def _translation_unavailable(_: Request, exc: TranslationUnavailable) -> JSONResponse:
    return error_response(409, "translation_unavailable", str(exc))


async def _model(_: Request, exc: ModelError) -> JSONResponse:
    log.error("model error: %s", exc)
    return error_response(500, "model_error", str(exc))


async def _sift(_: Request, exc: SiftError) -> JSONResponse:
    log.error("unexpected sift error: %s", exc)
    return error_response(500, "internal_error", "the request could not be processed")


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, "http_error", str(exc.detail))


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "the request could not be processed")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidInput, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(NotReady, _not_ready)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthorized, _unauthorized)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, _rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(TranslationUnavailable, _translation_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(ModelError, _model)  # type: ignore[arg-type]
    app.add_exception_handler(SiftError, _sift)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
