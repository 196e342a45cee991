"""The OpenAPI document, completed where FastAPI cannot see the API by itself.

- Bodies the views read themselves (after the key check) are documented by ``$ref``
  (``_body.json_content``); their models, and the models they refer to, are added to the
  components here.
- Reads declare the read-key scheme; while the server has no SCENEFIT_READ_API_KEY they
  are open, and the document says so (an empty requirement: no key is also accepted).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from ._auth import READ_SCHEME
from ._body import BODY_MODELS
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def install_openapi(app: FastAPI, *, reads_need_key: bool) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _complete(generate(), reads_need_key)  # generate() caches the document on the app
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(schema: dict[str, Any], reads_need_key: bool) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema([(m, "validation") for m in BODY_MODELS],
                                 ref_template="#/components/schemas/{model}")
    for name, definition in defs.get("$defs", {}).items():
        components.setdefault(name, definition)
    if reads_need_key:
        return
    for item in schema.get("paths", {}).values():
        for method in _METHODS:
            security = item.get(method, {}).get("security")
            if security and any(READ_SCHEME in requirement for requirement in security):
                item[method]["security"] = [*security, {}]
