"""Bearer-key checks: writes need SCENEFIT_API_KEY; reads only if SCENEFIT_READ_API_KEY is set."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from pydantic import SecretStr

from ._errors import ApiError


def _service(request: Request):
    return request.app.state.service


def _check(request: Request, key: SecretStr | None, what: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", f"{what} need an API key: Authorization: Bearer <key>",
                       headers={"WWW-Authenticate": "Bearer"})
    # compare_digest: the time taken does not tell how much of the key was right.
    if key is None or not hmac.compare_digest(token.strip().encode(), key.get_secret_value().encode()):
        raise ApiError(401, "unauthorized", "wrong API key", headers={"WWW-Authenticate": "Bearer"})


def require_write(request: Request, service=Depends(_service)) -> None:
    key = service.settings.api_key
    if key is None:
        # Still a 401 for a missing key (the client's problem); with a key, say why it can't work.
        if request.headers.get("authorization"):
            raise ApiError(403, "writes_disabled", "writes are disabled: the server has no SCENEFIT_API_KEY")
    _check(request, key, "writes")


def require_read(request: Request, service=Depends(_service)) -> None:
    if service.settings.read_api_key is not None:
        _check(request, service.settings.read_api_key, "reads")
