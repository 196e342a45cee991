"""``create_app``: the one place the FastAPI app is assembled."""

from __future__ import annotations

import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from .._version import __version__
from .._settings import Settings
from . import _errors, _feedback, _health, _match, _page, _products
from ._limits import BodyLimitMiddleware
from ._metrics import request_labels
from ._openapi import install_openapi
from ._service import Service


def create_app(index_dir: str | Path | None = None, settings: Settings | None = None, *,
               service: Service | None = None, warm_up: bool = True) -> FastAPI:
    """The service for one index folder. ``warm_up``: load the index and model in the
    background at start-up (/readyz says when done) instead of on the first request."""
    if service is None:
        if index_dir is None:
            raise ValueError("create_app needs index_dir or service")
        service = Service(index_dir, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        if warm_up:
            # A thread, not the event loop: /healthz answers while the model loads.
            threading.Thread(target=service.keep_warming, args=(stop,), name="scenefit-warm-up",
                             daemon=True).start()
        if service.settings.record_matches:
            threading.Thread(target=service.keep_retention, args=(stop,), name="scenefit-retention",
                             daemon=True).start()
        try:
            yield
        finally:
            stop.set()

    app = FastAPI(
        title="scenefit", version=__version__, lifespan=lifespan,
        description="Recommend catalog products that fit a photographed scene. "
                    "Errors are JSON: `{\"error\": {\"code\", \"message\"}}`.",
    )
    app.state.service = service
    _errors.install(app)
    install_openapi(app, reads_need_key=service.settings.read_api_key is not None)
    modules = (_match, _feedback, _products, _health, _page)
    for module in modules:
        app.include_router(module.router)
    # Flat, for the Allow header of a 405 (FastAPI keeps included routers nested).
    app.state.routes = [*app.router.routes, *(route for module in modules for route in module.router.routes)]
    app.add_middleware(BodyLimitMiddleware, max_bytes=service.settings.max_upload_bytes)
    if service.settings.cors_origins:
        # Outermost: a preflight is answered before any limit or route sees it.
        app.add_middleware(CORSMiddleware, allow_origins=list(service.settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Authorization"], max_age=600)

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", None)  # the template, not the id
            method, path, code = request_labels(request.method, route, status)
            service.metrics.requests.labels(method, path, code).inc()
            service.metrics.latency.labels(method, path).observe(time.perf_counter() - start)

    return app
