"""Liveness, readiness, metrics and hot reload for operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from engine.api.auth import require
from engine.api.deps import MetricsDep, ServiceDep
from engine.api.errors import error_response
from engine.classify import HEAD_NAMES
from engine.service import TriageService
from engine.settings import DEFAULT_TENANT

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (it may still be loading models)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> dict[str, Any] | Response:
    """Models are loaded, the index is open and the ticket log can be written: send traffic.

    A service that cannot write its ticket log would refuse every triage (it stores before it answers),
    so it is taken out of rotation instead.
    """
    services: dict[str, TriageService] = request.app.state.services
    if not services:
        raise request.app.state.starting.not_ready()
    for tenant, service in services.items():
        problem = await run_in_threadpool(service.write_problem)
        if problem is not None:
            where = "" if tenant == DEFAULT_TENANT else f"tenant {tenant}: "
            return error_response(503, "store_unavailable", where + problem)
    default = _readiness(services[DEFAULT_TENANT])
    others = {tenant: _readiness(service) for tenant, service in services.items() if tenant != DEFAULT_TENANT}
    return {"status": "ready", **default, **({"tenants": others} if others else {})}


def _readiness(service: TriageService) -> dict[str, Any]:
    """What one tenant serves with: the encoder, each KB's index build, the active head versions."""
    knowledge_bases = service.pipeline.knowledge_bases
    indexes = knowledge_bases.meta()
    return {
        "encoder": service.pipeline.registry.encoder.id,
        "index": indexes[knowledge_bases.default],
        "indexes": indexes,
        "heads": {
            name: service.pipeline.registry.require_head(name).meta.version for name in HEAD_NAMES
        },
    }


@router.get("/metrics")
async def metrics(m: MetricsDep) -> Response:
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/admin/reload", dependencies=[Depends(require("admin"))])
async def reload(service: ServiceDep) -> dict[str, Any]:
    """Swap in every KB's latest index build and the active head versions without a restart."""
    return await run_in_threadpool(service.reload)
