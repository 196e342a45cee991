"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ._auth import bearer_token, key_matches

router = APIRouter(tags=["operations"])
log = logging.getLogger("scenefit.api")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict:
    return {"status": "ok"}


class NotReady(BaseModel):
    status: Literal["loading", "error"]
    error: str | None = Field(None, description="Why loading failed: only for a caller with the read or write key "
                                                "(the server log has it too).")


def _may_see_internals(request: Request, settings) -> bool:
    token = bearer_token(request)
    return key_matches(token, settings.api_key) or key_matches(token, settings.read_api_key)


def _not_ready(request: Request, service, error: str) -> JSONResponse:
    # Paths and messages of a failed load are for operators, not for anyone who asks.
    body = {"status": "error"}
    if _may_see_internals(request, service.settings):
        body["error"] = error
    return JSONResponse(body, status_code=503)


@router.get("/readyz", summary="Index and model are loaded",
            responses={503: {"model": NotReady, "description": "Still loading, or loading failed."}})
async def readyz(request: Request) -> JSONResponse:
    service = request.app.state.service
    engine = service.engine
    if not service.ready:
        if service.load_error is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        return _not_ready(request, service, service.load_error)
    # The generation a request would be answered from now, not the one last loaded: another
    # process may have written since (a manifest read; the reload, if any, off the loop).
    try:
        await run_in_threadpool(engine.refresh)
    except Exception as exc:  # noqa: BLE001 - a probe answers "not ready", whatever broke
        log.error("index failed to reload: %s: %s", type(exc).__name__, exc)
        return _not_ready(request, service, f"{type(exc).__name__}: {exc}")
    index = engine.index
    adapter = engine.appearance_adapter  # what matches are scored through: labelled, label-free or none
    return JSONResponse({"status": "ready", "products": len(index), "generation": index.manifest.generation,
                         "model": index.manifest.model_id,
                         "adapter": None if adapter is None else {"source": adapter.source, "regions": adapter.regions}})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
                             "description": "The Prometheus text format."}})
async def metrics(request: Request) -> Response:
    service = request.app.state.service
    index = service.engine.loaded_index  # never load the index for a scrape
    if index is not None:
        service.metrics.index_size.set(len(index))
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
