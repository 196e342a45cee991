"""The OpenAPI document describes the API the server runs: resolvable, with its key schemes
and every status a route sends, in the error shape it sends."""

from __future__ import annotations

import pytest

from scenefit._settings import Settings
from scenefit.api import Service, create_app


def _doc(**settings) -> dict:
    service = Service("unused-index", Settings(**{"api_key": "k", **settings}))
    return create_app(service=service, warm_up=False).openapi()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves():
    doc = _doc()
    refs = set(_refs(doc))
    assert "#/components/schemas/FiltersIn" in refs and "#/components/schemas/ProductIn" in refs
    for ref in refs:
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"dangling {ref}"
            node = node[part]


def test_bearer_schemes_writes_need_a_key_reads_only_when_set():
    doc = _doc()
    schemes = doc["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"} and len(schemes) == 2
    op = lambda d, path, method: d["paths"][path][method]
    assert op(doc, "/v1/products/{product_id}", "put")["security"] == [{"writeKey": []}]
    assert op(doc, "/v1/products:batch", "post")["security"] == [{"writeKey": []}]
    assert {} in op(doc, "/v1/match", "post")["security"]  # open reads: no key accepted
    closed = _doc(read_api_key="r")
    assert op(closed, "/v1/match", "post")["security"] == [{"readKey": []}]
    assert op(closed, "/v1/products/{product_id}", "get")["security"] == [{"readKey": []}]


@pytest.mark.parametrize("path, method, statuses", [
    ("/v1/match", "post", {200, 400, 401, 408, 413, 415, 422, 500, 503}),
    ("/v1/products/{product_id}", "get", {200, 401, 404, 422, 500, 503}),
    ("/v1/products/{product_id}", "put", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("/v1/products/{product_id}", "delete", {200, 401, 403, 404, 422, 500, 503}),
    ("/v1/products:batch", "post", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("/v1/products/{product_id}/image", "get", {200, 401, 404, 422, 500, 503}),
    ("/v1/feedback", "post", {200, 201, 401, 404, 413, 415, 422, 429, 500, 503}),
    ("/v1/matches/{match_id}", "delete", {204, 401, 403, 404, 422, 500, 503}),
    ("/v1/experiments/report", "get", {200, 401, 403, 422, 500, 503}),
    ("/readyz", "get", {200, 503}),
])
def test_each_route_documents_its_statuses_in_the_error_shape(path, method, statuses):
    doc = _doc()
    responses = doc["paths"][path][method]["responses"]
    assert {int(s) for s in responses} == statuses
    for status, response in responses.items():
        if int(status) >= 400 and path != "/readyz":
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (status, schema)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    body = doc["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"] and set(body["properties"]) == {"error", "details"}


def test_write_bodies_and_the_id_limit_are_documented():
    from scenefit.catalog import MAX_ID_CHARS

    doc = _doc()
    put = doc["paths"]["/v1/products/{product_id}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProductIn"}
    (param,) = put["parameters"]
    assert param["name"] == "product_id" and param["schema"]["maxLength"] == MAX_ID_CHARS
    batch = doc["paths"]["/v1/products:batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch == {"$ref": "#/components/schemas/Batch"}
