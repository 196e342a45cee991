"""Bad input and abuse: every case a 4xx with a JSON error body, and the server keeps serving."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from .conftest import AUTH, make_client, png_bytes, wait_ready


def _error(resp, status: int, code: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()["error"]
    assert body["message"]
    if code:
        assert body["code"] == code
    return body["message"]


def _still_serving(client) -> None:
    resp = client.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")})
    assert resp.status_code == 200


def _bomb() -> bytes:
    """A 20000×20000 PNG: tiny on the wire, 1.2 GB of pixels if decoded."""
    buf = io.BytesIO()
    Image.new("1", (20000, 20000), 0).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name, data, needle", [
    ("text", b"definitely not an image", "not an image"),
    ("empty", b"", "empty"),
    ("truncated", png_bytes(size=(400, 300))[:300], "truncated"),
    ("html", b"<html><body>hello</body></html>", "not an image"),
    ("bomb", None, "pixels"),
    ("tiny", png_bytes(size=(4, 4)), "at least 32"),
])
def test_bad_images_are_400(client, name, data, needle):
    data = _bomb() if name == "bomb" else data
    resp = client.post("/v1/match", files={"image": ("x.png", data, "image/png")})
    assert needle in _error(resp, 400, "image_error").lower()
    _still_serving(client)


def test_upload_over_the_limit_is_413(index_dir):
    big = png_bytes(size=(2000, 2000)) + b"\0" * 300_000
    with make_client(index_dir, max_upload_mb=0.25) as client:
        wait_ready(client)
        resp = client.post("/v1/match", files={"image": ("x.png", big, "image/png")})
        assert "0.25 MB" in _error(resp, 413, "too_large")

        def chunks():  # no Content-Length: the cap must hold while the body streams
            for _ in range(64):
                yield b"\0" * 16384

        resp = client.post("/v1/match", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
        _error(resp, 413, "too_large")
        _still_serving(client)


def test_missing_image_field(client):
    resp = client.post("/v1/match", files={"photo": ("x.png", png_bytes(), "image/png")})
    assert "'image'" in _error(resp, 422, "invalid_request")


def test_unsupported_media_type(client):
    _error(client.post("/v1/match", content=b"abc", headers={"content-type": "text/plain"}), 415)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/healthz", "http://localhost/x.png", "http://10.0.0.1/x.png",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/x.png", "http://192.168.1.1/x.png",
])
def test_image_url_to_internal_addresses_is_refused(client, url):
    assert "refused" in _error(client.post("/v1/match", json={"image_url": url}), 400, "unsafe_url")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.png", "gopher://x/", "//x/y.png"])
def test_image_url_with_another_scheme_is_422(client, url):
    assert "http" in _error(client.post("/v1/match", json={"image_url": url}), 422)


def test_image_url_redirect_and_slow_or_endless_bodies(index_dir, http_server):
    import time

    def redirect(h):
        h.send_response(302)
        h.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def drip(h):
        h.send_response(200)
        h.end_headers()
        for _ in range(200):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.1)

    def endless(h):
        h.send_response(200)
        h.end_headers()
        for _ in range(10_000):
            h.wfile.write(b"\0" * 65536)

    for path, fn in (("/redirect", redirect), ("/drip", drip), ("/endless", endless)):
        http_server.route(path, fn)
    with make_client(index_dir, url_allow_networks=("127.0.0.1/32",), url_timeout_s=1, max_upload_mb=1) as client:
        wait_ready(client)
        post = lambda path: client.post("/v1/match", json={"image_url": http_server.url(path)})
        assert "169.254.169.254" in _error(post("/redirect"), 400, "unsafe_url")
        assert "longer than 1s" in _error(post("/drip"), 400, "unsafe_url")
        assert "limit" in _error(post("/endless"), 400, "unsafe_url")
        _still_serving(client)


@pytest.mark.parametrize("body, needle", [
    (b"{not json", "malformed JSON"),
    (b"[1, 2]", "Input should be"),
    (b'{"image_url": "https://example.com/x.png", "k": 0}', "k:"),
    (b'{"image_url": "https://example.com/x.png", "k": 101}', "k:"),
    (b'{"image_url": "https://example.com/x.png", "k": "many"}', "k:"),
    (b'{"image_url": "https://example.com/x.png", "colour": "red"}', "colour: Extra inputs"),
    (b'{"image_url": "https://example.com/x.png", "filters": {"size": "L"}}', "filters.size"),
    (b'{"k": 3}', "image_url: Field required"),
])
def test_malformed_json_requests_are_422(client, body, needle):
    resp = client.post("/v1/match", content=body, headers={"content-type": "application/json"})
    assert needle in _error(resp, 422, "invalid_request")


@pytest.mark.parametrize("form, needle", [
    ({"k": "0"}, "k:"), ({"k": "1000"}, "k:"), ({"k": "ten"}, "k:"),
    ({"filters": "{oops"}, "filters: not valid JSON"),
    ({"filters": json.dumps({"attributes": {"size": "L"}})}, "unknown filter field(s) size"),
    ({"filters": json.dumps({"weight": 2})}, "filters.weight"),
    ({"filters": json.dumps({"price_min": 50, "price_max": 10})}, "price range is empty"),
    ({"context": "x" * 501}, "context:"),
    ({"mystery": "1"}, "mystery: Extra inputs"),
])
def test_bad_form_fields_are_422(client, form, needle):
    resp = client.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")}, data=form)
    assert needle in _error(resp, 422)


def test_unknown_route_and_method_are_json(client):
    _error(client.get("/v1/nothing"), 404)
    _error(client.get("/v1/match"), 405)


DEEP = [("[" * 1001 + "]" * 1001).encode(), ('{"a":' * 1001 + "1" + "}" * 1001).encode()]


@pytest.mark.parametrize("body", DEEP, ids=["list", "object"])
def test_deeply_nested_json_is_422_on_every_route(client, body):
    json_headers = {**AUTH, "content-type": "application/json"}
    for resp in (client.post("/v1/match", content=body, headers={"content-type": "application/json"}),
                 client.put("/v1/products/deep", content=body, headers=json_headers),
                 client.post("/v1/products:batch", content=body, headers=json_headers),
                 client.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")},
                             data={"filters": body.decode()})):
        assert "JSON" in _error(resp, 422, "invalid_request")
    # Nested inside an otherwise valid product too.
    product = b'{"description": "RED LAMP", "extra": ' + body + b"}"
    assert "recursion" in _error(client.put("/v1/products/deep", content=product, headers=json_headers), 422)
    assert client.get("/v1/products/deep").status_code == 404
    _still_serving(client)


@pytest.mark.parametrize("body", [b'{"description": "RED LAMP", "note": "\\udfff"}',
                                  b'{"description": "RED LAMP", "price": 1e400}',
                                  b'{"description": "RED LAMP", "price": NaN}'])
def test_json_no_answer_could_carry_is_422(client, body):
    resp = client.put("/v1/products/odd", content=body, headers={**AUTH, "content-type": "application/json"})
    _error(resp, 422, "invalid_request")
    assert client.get("/v1/products/odd").status_code == 404


@pytest.mark.parametrize("method, path", [("PUT", "/v1/products/big"), ("POST", "/v1/products:batch"),
                                          ("POST", "/v1/match")])
def test_chunked_json_over_the_limit_is_413(index_dir, method, path):
    def chunks():  # no Content-Length: the cap must hold while the body streams
        yield b'{"description": "'
        for _ in range(64):
            yield b"x" * 16384

    with make_client(index_dir, max_upload_mb=0.25) as client:
        resp = client.request(method, path, content=chunks(), headers={**AUTH, "content-type": "application/json"})
        _error(resp, 413, "too_large")


@pytest.mark.parametrize("method, path", [("PUT", "/v1/products/x"), ("POST", "/v1/products:batch")])
def test_the_key_is_checked_before_the_body_is_read(client, method, path):
    for body in (b"{not json", b"[" * 5000):
        resp = client.request(method, path, content=body, headers={"content-type": "application/json"})
        _error(resp, 401, "unauthorized")
    resp = client.request(method, path, content=b"<p/>", headers={**AUTH, "content-type": "text/html"})
    _error(resp, 415, "unsupported_media_type")


def test_405_says_what_the_path_allows_and_options_answers(client):
    resp = client.request("PATCH", "/v1/products/p1")
    _error(resp, 405, "method_not_allowed")
    assert set(resp.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}
    assert client.get("/v1/match").headers["allow"] == "OPTIONS, POST"
    resp = client.options("/v1/match")
    assert resp.status_code == 204 and resp.headers["allow"] == "OPTIONS, POST" and not resp.content
    _error(client.options("/v1/nothing"), 404)


def test_readyz_keeps_load_errors_for_key_holders(tmp_path, caplog):
    import time

    with caplog.at_level("ERROR", logger="scenefit.api"), make_client(tmp_path / "no-index") as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)  # the warm-up thread's verdict
        resp = client.get("/readyz")
        assert resp.status_code == 503 and resp.json() == {"status": "error"}
        assert str(tmp_path) not in resp.text
        assert client.get("/readyz", headers={"Authorization": "Bearer wrong"}).json() == {"status": "error"}
        detail = client.get("/readyz", headers=AUTH).json()
        assert detail["status"] == "error" and "no-index" in detail["error"]
    assert any("no-index" in r.getMessage() for r in caplog.records)  # the operator still sees why
