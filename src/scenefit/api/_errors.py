"""Every error becomes a JSON body here, and only here: ``{"error": {"code", "message"}}``.

ScenefitError subclasses map to statuses by class; request validation to 422 with the
field and the reason; anything unexpected to a 500 without internals (and a log line).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .._errors import (BackendError, CatalogError, ConfigError, ImageError, IndexError_, ModelError,
                       NotFoundError, ScenefitError)

log = logging.getLogger("scenefit.api")


class ApiError(ScenefitError):
    """An error with its own HTTP status (auth, size limit, media type)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers


_STATUS: list[tuple[type[ScenefitError], int]] = [
    (NotFoundError, 404),
    (ImageError, 400),  # not an image, truncated, too many pixels, refused URL
    (CatalogError, 422),  # a product write with an invalid row
    (ConfigError, 422),  # k, filters, context out of bounds
    (ModelError, 503),
    (IndexError_, 503),  # no index, corrupt, wrong model: the service is not ready
    (BackendError, 503),  # the Milvus server is unreachable
]


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _status_of(exc: ScenefitError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 400)


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ScenefitError)
    async def scenefit_error(request: Request, exc: ScenefitError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), status_code=_status_of(exc),
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        details = [f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
        return JSONResponse(
            {**error_body("invalid_request", "; ".join(details) or "invalid request"),
             "details": [{"field": _where(e.get("loc", ())), "message": e.get("msg")} for e in errors]},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "internal error; see the server log"), status_code=500)
