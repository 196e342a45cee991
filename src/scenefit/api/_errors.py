"""Every error becomes a JSON body here, and only here: ``{"error": {"code", "message"}}``.

ScenefitError subclasses map to statuses by class; request validation to 422 with the
field and the reason; anything unexpected to a 500 without internals (and a log line).
:func:`responses` documents the same body in the OpenAPI, for the statuses a route sends.
"""

from __future__ import annotations

import logging

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from .._errors import (BackendError, CatalogError, ConfigError, FeedbackError, ImageError, InvalidIndexError,
                       ModelError, NotFoundError, ScenefitError)

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
    (FeedbackError, 422),  # an event on a product the match did not show
    (ModelError, 503),
    (InvalidIndexError, 503),  # no index, corrupt, wrong model: the service is not ready
    (BackendError, 503),  # the Milvus server is unreachable
]


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class ErrorInfo(BaseModel):
    code: str = Field(description='Machine-readable, e.g. "not_found", "invalid_request", "too_large".')
    message: str = Field(description="One line for a person.")


class FieldError(BaseModel):
    field: str = Field(description='Where, e.g. "k" or "filters.price_min"; "body" for the whole body.')
    message: str


class ErrorBody(BaseModel):
    """Every error answer of the service."""

    error: ErrorInfo
    details: list[FieldError] | None = Field(None, description="Request validation errors (422), one per field.")


_MEANING = {
    400: "The image cannot be read or fetched (not an image, too many pixels, refused URL).",
    401: "The API key is missing or wrong.",
    403: "Writes are disabled: the server has no SCENEFIT_API_KEY.",
    404: "No such product, served match or file.",
    408: "The request body took longer than SCENEFIT_UPLOAD_TIMEOUT_S to arrive.",
    413: "The request body is over SCENEFIT_MAX_UPLOAD_MB.",
    415: "The body's media type is not one this route reads.",
    422: "The request is invalid; `details` names each field.",
    429: "Too many requests from this client (or events on this match); see Retry-After.",
    500: "Unexpected error; the server log has the traceback.",
    503: "Not ready (index or model not loaded, backend unreachable), or overloaded.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait, when the service is overloaded.",
                                "schema": {"type": "integer"}}}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route sends (500 always)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 500}):
        out[status] = {"model": ErrorBody, "description": _MEANING[status]}
        if status == 503:
            out[status]["headers"] = _RETRY_AFTER
    return out


def _allowed_methods(request: Request) -> str:
    """Every method some route at this path takes (Starlette names only the first route's).
    ``app.state.routes``: the app's routes, those of included routers among them."""
    methods: set[str] = set()
    for route in getattr(request.app.state, "routes", request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods | {"OPTIONS"}))


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
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
            if request.method == "OPTIONS":  # what the path takes, and nothing else (no CORS here)
                return Response(status_code=204, headers=headers)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "internal error; see the server log"), status_code=500)
