"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Index and model are loaded")
async def readyz(request: Request) -> JSONResponse:
    service = request.app.state.service
    engine = service.engine
    if not service.ready:
        body = {"status": "loading" if service.load_error is None else "error", "error": service.load_error}
        return JSONResponse(body, status_code=503)
    index = engine.index
    return JSONResponse({"status": "ready", "products": len(index), "generation": index.manifest.generation,
                         "model": index.manifest.model_id})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    service = request.app.state.service
    index = service.engine.loaded_index  # never load the index for a scrape
    if index is not None:
        service.metrics.index_size.set(len(index))
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
