"""Bearer-key checks: writes need SCENEFIT_API_KEY; reads only if SCENEFIT_READ_API_KEY is set.

The ``HTTPBearer`` objects only document the schemes in the OpenAPI (``auto_error=False``:
they never answer themselves); the checks and their messages are the ones below.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from pydantic import SecretStr

from ._errors import ApiError

WRITE_SCHEME, READ_SCHEME = "writeKey", "readKey"
_write_key = HTTPBearer(scheme_name=WRITE_SCHEME, auto_error=False,
                        description="SCENEFIT_API_KEY: needed by every write.")
_read_key = HTTPBearer(scheme_name=READ_SCHEME, auto_error=False,
                       description="SCENEFIT_READ_API_KEY: needed by reads only when the server sets it.")


def _service(request: Request):
    return request.app.state.service


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def key_matches(token: str | None, key: SecretStr | None) -> bool:
    # compare_digest: the time taken does not tell how much of the key was right.
    return token is not None and key is not None and hmac.compare_digest(token.encode(), key.get_secret_value().encode())


def _check(request: Request, key: SecretStr | None, what: str) -> None:
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", f"{what} need an API key: Authorization: Bearer <key>",
                       headers={"WWW-Authenticate": "Bearer"})
    if not key_matches(token, key):
        raise ApiError(401, "unauthorized", "wrong API key", headers={"WWW-Authenticate": "Bearer"})


def require_write(request: Request, service=Depends(_service), _doc=Depends(_write_key)) -> None:
    key = service.settings.api_key
    if key is None:
        # Still a 401 for a missing key (the client's problem); with a key, say why it can't work.
        if request.headers.get("authorization"):
            raise ApiError(403, "writes_disabled", "writes are disabled: the server has no SCENEFIT_API_KEY")
    _check(request, key, "writes")


def require_read(request: Request, service=Depends(_service), _doc=Depends(_read_key)) -> None:
    if service.settings.read_api_key is not None:
        _check(request, service.settings.read_api_key, "reads")
