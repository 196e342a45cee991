"""POST /v1/match: a scene photo (upload or URL) → the match JSON contract."""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Union

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import UploadFile

from .._errors import ImageError
from .._schema import MatchResult
from ..feedback import DEFAULT_VARIANT
from ..images import fetch_url_bytes
from ..rank import Filters
from ._auth import require_read
from ._body import is_json, json_content, parse_json, validate
from ._errors import ApiError, responses

router = APIRouter(tags=["match"])


class FiltersIn(BaseModel):
    """Filters on the catalog. Unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")

    category: Union[str, list[str], None] = Field(None, description="Only these categories.")
    attributes: dict[str, Union[str, list[str]]] = Field(
        default_factory=dict, description="Catalog column → value (or values), case-insensitive.")
    price_min: float | None = Field(None, ge=0, description="Lowest price (the catalog's price column).")
    price_max: float | None = Field(None, ge=0, description="Highest price.")

    def to_filters(self) -> Filters:
        cats = [self.category] if isinstance(self.category, str) else list(self.category or [])
        where = [f"{k}={v}" for k, vs in self.attributes.items() for v in ([vs] if isinstance(vs, str) else vs)]
        return Filters.parse(cats, where, price_min=self.price_min, price_max=self.price_max)


class MatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(10, ge=1, le=100, description="Number of recommendations.")
    context: str | None = Field(None, max_length=500, description='Text that shifts the query, e.g. "gaming setup".')
    filters: FiltersIn | None = None
    session_id: str | None = Field(
        None, min_length=1, max_length=128,
        description="A user or session id: the same id always gets the same experiment variant.")


class MatchByURL(MatchOptions):
    # The pattern documents what _http checks (and keeps its clearer message).
    image_url: str = Field(..., max_length=2048, json_schema_extra={"pattern": "^[hH][tT][tT][pP][sS]?://"},
                           description="http(s) URL of the scene photo (public hosts only).")

    @field_validator("image_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v


_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["image"],
                "properties": {
                    "image": {"type": "string", "format": "binary", "description": "The scene photo."},
                    "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    "context": {"type": "string", "maxLength": 500},
                    "filters": {"type": "string", "description": "FiltersIn as a JSON string."},
                    "session_id": {"type": "string", "minLength": 1, "maxLength": 128},
                },
            }},
            **json_content(MatchByURL),
        },
    },
}


async def _received(request: Request, body):
    """``body`` (the awaitable that reads the request's body) within the upload deadline: a
    match holds its place in the queue while its body arrives, so a client that drips it
    must not keep that place for long."""
    timeout = request.app.state.service.settings.upload_timeout_s
    try:
        with anyio.fail_after(timeout):
            return await body
    except TimeoutError:
        raise ApiError(408, "request_timeout", f"the request body took longer than {timeout:g}s to arrive "
                                               "(SCENEFIT_UPLOAD_TIMEOUT_S)", headers={"Connection": "close"}) from None


async def _from_form(request: Request) -> tuple[bytes, MatchOptions]:
    form = await _received(request, request.form(max_files=1, max_fields=10))
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise RequestValidationError([{"loc": ("image",), "msg": "a file field named 'image' is required",
                                       "type": "missing"}])
    data = await upload.read()
    if not data:
        raise ImageError("the uploaded 'image' file is empty")
    raw: dict[str, Any] = {k: v for k, v in form.items() if k != "image" and isinstance(v, str) and v != ""}
    if "filters" in raw:
        raw["filters"] = parse_json(raw["filters"], "filters")
    return data, validate(MatchOptions, raw)


async def _from_json(request: Request) -> tuple[bytes, MatchOptions]:
    options = validate(MatchByURL, parse_json(await _received(request, request.body())))
    settings = request.app.state.service.settings
    data = await fetch_url_bytes(options.image_url, max_bytes=settings.max_upload_bytes,
                                 timeout_s=settings.url_timeout_s,
                                 policy=request.app.state.service.url_policy)
    return data, options


@router.post("/v1/match", response_model=MatchResult, openapi_extra=_OPENAPI,
             responses=responses(400, 401, 408, 413, 415, 422, 503),
             summary="Recommend products that fit a scene photo",
             description="Multipart upload (field `image`, optional `k`, `context`, `filters` as JSON, "
                         "`session_id`) or JSON `{\"image_url\": …, \"k\", \"context\", \"filters\", "
                         "\"session_id\"}`. Returns the same JSON as `scenefit match --json`, with the "
                         "`match_id` that feedback events refer to.")
async def match(request: Request, _: None = Depends(require_read)) -> MatchResult:
    service = request.app.state.service
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    start = time.perf_counter()
    if ctype != "multipart/form-data" and not is_json(request):
        raise ApiError(415, "unsupported_media_type",
                       "send multipart/form-data with an 'image' file, or application/json with 'image_url'")
    # Admitted (or refused with 503) before the body is read: a waiting match holds its upload.
    with service.admission.slot():
        data, options = await (_from_form(request) if ctype == "multipart/form-data" else _from_json(request))
        filters = options.filters.to_filters() if options.filters else None
        # Decoding and inference are CPU work: off the event loop, so /healthz and other
        # requests are served meanwhile.
        if service.settings.record_matches:
            run = partial(service.engine.serve_match, data, k=options.k, context=options.context, filters=filters,
                          session_id=options.session_id)
        else:
            run = partial(service.engine.match, data, k=options.k, context=options.context, filters=filters)
        result = await anyio.to_thread.run_sync(run, limiter=service.inference)
    service.metrics.observe_match(time.perf_counter() - start, result.timings_ms)
    service.metrics.observe_result(result.variant or DEFAULT_VARIANT, [r.score for r in result.recommendations])
    return result
