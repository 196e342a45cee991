"""POST /v1/feedback (events on a served match), DELETE /v1/matches/{id}, and the experiment
report.

A storefront's browser holds no key: an event on a server-issued ``match_id`` (unguessable)
is accepted without one, small and rate-limited per client address. Curator judgements
(``relevant``, ``irrelevant``), deletes and the report need the write key.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Optional

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from .._body_cap import ByteCap, OverCap
from .._errors import ConfigError, FeedbackError, NotFoundError, ScenefitError
from ..feedback import CURATOR_EVENTS, Event, ExperimentReport, utc_iso
from ._auth import key_matches, bearer_token, require_write
from ._body import is_json, json_content, parse_json, validate
from ._errors import ApiError, responses

router = APIRouter(tags=["feedback"])


def _iso_time(value: str | None) -> str | None:
    try:
        return utc_iso(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


Since = Annotated[Optional[str], AfterValidator(_iso_time), WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]})]

#: A feedback body is a few ids (under 1 KB at their longest, escaped): far larger is not one.
MAX_BODY_BYTES = 16 * 1024


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match_id: str = Field(..., min_length=1, max_length=64, description="The `match_id` of a match result.")
    product_id: str = Field(..., min_length=1, max_length=512, description="A product that match showed.")
    event: Event = Field(..., description="click, save, add_to_cart, purchase, dismiss; relevant and "
                                          "irrelevant (curator judgements) need the write key.")
    event_id: str | None = Field(None, min_length=1, max_length=64,
                                 description="The client's id for this event: a repeat is recorded once.")


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is an error, not ignored

    k: int = Field(10, ge=1, le=100, description="Count events on products shown within the top k.")
    since: Since = Field(None, description="Only matches served at or after this time (ISO 8601; UTC without a zone).")


class FeedbackOut(BaseModel):
    recorded: bool = Field(description="False when the event_id was recorded before")
    duplicate: bool
    match_id: str
    product_id: str
    event: Event
    rank: int = Field(description="Where the match showed the product")
    variant: str


async def _small_body(request: Request) -> bytes:
    cap = ByteCap(MAX_BODY_BYTES)
    try:
        cap.declare(request.headers.get("content-length"))
        return b"".join([cap.take(chunk) async for chunk in request.stream()])
    except OverCap:
        raise ApiError(413, "too_large", f"a feedback body is at most {MAX_BODY_BYTES} bytes") from None


def _reason(exc: ScenefitError) -> str:
    """The fixed label of a refused event, for scenefit_feedback_rejected_total."""
    if isinstance(exc, ApiError):
        return {401: "unauthorized", 413: "too_large", 415: "media_type", 429: "rate_limited"}.get(exc.status, "other")
    if isinstance(exc, NotFoundError):
        return "unknown_match"
    if isinstance(exc, FeedbackError):
        return "too_many_events" if exc.code == "too_many_events" else "not_shown"
    return "other"


@router.post("/v1/feedback", response_model=FeedbackOut, status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": json_content(FeedbackIn)}},
             responses={**responses(401, 404, 413, 415, 422, 429, 503),
                        200: {"model": FeedbackOut, "description": "A repeat of an event_id: nothing recorded."}},
             summary="Record a shopper's event (or a curator's judgement) on a product a match showed")
async def feedback(request: Request, response: Response) -> FeedbackOut:
    service = request.app.state.service
    try:
        client = request.client.host if request.client else "unknown"
        if not service.feedback_limiter.allow(client):
            raise ApiError(429, "rate_limited", "too many feedback events from this address; retry shortly",
                           headers={"Retry-After": str(service.feedback_limiter.retry_after())})
        if not is_json(request):
            raise ApiError(415, "unsupported_media_type", "send the event as application/json")
        body = validate(FeedbackIn, parse_json(await _small_body(request)))
        if body.event in CURATOR_EVENTS and not key_matches(bearer_token(request), service.settings.api_key):
            raise ApiError(401, "unauthorized", f"{body.event.value!r} is a curator judgement: it needs the write "
                                                "key (Authorization: Bearer <key>)", headers={"WWW-Authenticate": "Bearer"})
        event, match, new = await anyio.to_thread.run_sync(partial(
            service.engine.feedback.event, body.match_id, body.product_id, body.event, event_id=body.event_id))
    except ScenefitError as exc:
        service.metrics.feedback_rejected.labels(_reason(exc)).inc()
        if isinstance(exc, FeedbackError) and exc.code == "too_many_events":
            raise ApiError(429, exc.code, str(exc)) from None
        raise
    if new:
        service.metrics.feedback.labels(match.variant, event.event.value).inc()
    else:
        response.status_code = 200
    return FeedbackOut(recorded=new, duplicate=not new, match_id=event.match_id, product_id=event.product_id,
                       event=event.event, rank=event.rank, variant=match.variant)


@router.delete("/v1/matches/{match_id}", status_code=204, response_class=Response,
               responses=responses(401, 403, 404, 422, 503),
               summary="Delete a recorded match, its events, and its scene photo unless another match showed it")
async def delete_match(match_id: str, request: Request, _: None = Depends(require_write)) -> Response:
    await anyio.to_thread.run_sync(request.app.state.service.engine.feedback.delete_match, match_id)
    return Response(status_code=204)


@router.get("/v1/experiments/report", response_model=ExperimentReport, responses=responses(401, 403, 422, 503),
            summary="Per experiment variant: matches, impressions, click, add-to-cart and purchase rates "
                    "with confidence intervals, each compared with the control")
async def experiments_report(request: Request, query: Annotated[ReportQuery, Query()],
                             _: None = Depends(require_write)) -> ExperimentReport:
    loop = request.app.state.service.engine.feedback
    return await anyio.to_thread.run_sync(partial(loop.report, k=query.k, since=query.since))
