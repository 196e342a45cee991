"""Bad input and abuse: every case a 4xx with a JSON error body, and the server keeps serving."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from .conftest import make_client, png_bytes, wait_ready


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
