"""JSON request bodies, read by the views themselves (after the key check, inside the body cap).

FastAPI would parse a body parameter before any dependency runs, and turn whatever goes
wrong while reading it into a 400; reading it here keeps the order "key, then body" and lets
the body cap's 413 and the project's 422 through.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import pydantic_core
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from ._errors import ApiError

M = TypeVar("M", bound=BaseModel)

#: The models of bodies read this way, for the OpenAPI components (``_openapi``): FastAPI
#: sees no body parameter, so it would not add them itself.
BODY_MODELS: list[type[BaseModel]] = []


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``content`` entry of a JSON body read as ``model``; registers the model."""
    if model not in BODY_MODELS:
        BODY_MODELS.append(model)
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}


def invalid(exc: ValidationError, prefix: tuple = ()) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors()])


def _malformed(reason: str, field: str | None) -> RequestValidationError:
    where, msg = (field, f"not valid JSON ({reason})") if field else ("body", f"malformed JSON ({reason})")
    return RequestValidationError([{"loc": (where,), "msg": msg, "type": "json_invalid"}])


def parse_json(body: bytes | str, field: str | None = None) -> Any:
    """The JSON document in ``body`` (the request's, or the form ``field``'s). pydantic's
    parser bounds the nesting depth (a deep document is an error, not a RecursionError),
    refuses lone surrogates, NaN and Infinity."""
    try:
        payload = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise _malformed(str(exc), field) from None
    if not _finite(payload):
        # A number too large for a float parses as infinity, which no JSON answer can carry.
        raise _malformed("a number is out of range", field)
    return payload


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def validate(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise invalid(exc) from None


def is_json(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))


async def json_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``: 415 for another media type, 422 when invalid."""
    if request.headers.get("content-type") and not is_json(request):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    return validate(model, parse_json(await request.body()))
