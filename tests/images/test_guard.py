"""The SSRF guard: address policy, pinned connections, redirects, size and time caps."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import time

import httpx
import pytest
from PIL import Image

from scenefit.images import AddressPolicy, GuardedTransport, UnsafeURLError, fetch_url_bytes

LOCAL = AddressPolicy(allow=("127.0.0.1/32",))


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("address, ok", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("::1", False), ("10.1.2.3", False), ("192.168.0.10", False),
    ("172.16.5.5", False), ("169.254.169.254", False), ("fe80::1", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("224.0.0.1", False), ("::ffff:127.0.0.1", False), ("fd00::1", False),
])
def test_only_public_addresses_by_default(address, ok):
    assert AddressPolicy().permits(ipaddress.ip_address(address)) is ok


def test_allow_list_opens_a_network():
    assert LOCAL.permits(ipaddress.ip_address("127.0.0.1"))
    assert not LOCAL.permits(ipaddress.ip_address("127.0.0.2"))


def _resolving(monkeypatch, answers: list[str]):
    async def fake_getaddrinfo(self, host, port, **kw):
        return [(2, 1, 6, "", (a, port)) for a in answers]

    monkeypatch.setattr(asyncio.unix_events._UnixSelectorEventLoop, "getaddrinfo", fake_getaddrinfo)


def test_connection_is_pinned_to_the_checked_address(monkeypatch):
    _resolving(monkeypatch, ["93.184.215.14"])
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    transport = GuardedTransport(AddressPolicy(), httpx.MockTransport(handler))

    async def go():
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get("https://images.example.com:8443/a.jpg")

    resp = asyncio.run(go())
    assert resp.status_code == 200
    sent = seen[0]
    # Connects to the address it checked; the server still sees (and TLS checks) the name.
    assert sent.url.host == "93.184.215.14" and sent.url.port == 8443
    assert sent.headers["host"] == "images.example.com:8443"
    assert sent.extensions["sni_hostname"] == "images.example.com"


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    _resolving(monkeypatch, ["93.184.215.14", "10.0.0.5"])
    inner = httpx.MockTransport(lambda r: httpx.Response(200))
    with pytest.raises(UnsafeURLError, match="non-public address \\(10.0.0.5\\)"):
        asyncio.run(fetch_url_bytes("http://mixed.example.com/x.png", max_bytes=1000, timeout_s=5, transport=inner))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.png", "http://localhost/x.png", "http://10.0.0.1/x.png",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/x.png", "http://0x7f000001/x.png",
])
def test_private_targets_are_refused_before_connecting(url):
    calls = []
    inner = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
    with pytest.raises(UnsafeURLError, match="refused|non-public|could not be fetched"):
        asyncio.run(fetch_url_bytes(url, max_bytes=1000, timeout_s=5, transport=inner))
    assert calls == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.png", "gopher://x", "/etc/passwd"])
def test_non_http_schemes_are_refused(url):
    with pytest.raises(UnsafeURLError, match="http"):
        asyncio.run(fetch_url_bytes(url, max_bytes=1000, timeout_s=5))


def test_fetches_an_allowed_image(http_server):
    body = _png()

    def image(h):
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    http_server.route("/img.png", image)
    got = asyncio.run(fetch_url_bytes(http_server.url("/img.png"), max_bytes=10_000, timeout_s=5, policy=LOCAL))
    assert got == body


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/", "http://10.0.0.7/x.png",
                                    "http://127.0.0.2/x.png", "file:///etc/passwd"])
def test_redirect_to_a_private_address_is_refused(http_server, target):
    def redirect(h):
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()

    http_server.route("/r", redirect)
    with pytest.raises(UnsafeURLError, match="refused|scheme|could not be fetched"):
        asyncio.run(fetch_url_bytes(http_server.url("/r"), max_bytes=10_000, timeout_s=5, policy=LOCAL))


def test_redirect_loop_is_cut(http_server):
    def loop(h):
        h.send_response(302)
        h.send_header("Location", "/loop")
        h.send_header("Content-Length", "0")
        h.end_headers()

    http_server.route("/loop", loop)
    with pytest.raises(UnsafeURLError, match="redirects more than 3"):
        asyncio.run(fetch_url_bytes(http_server.url("/loop"), max_bytes=10_000, timeout_s=5, policy=LOCAL))


def test_endless_body_is_cut_at_the_size_cap(http_server):
    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.end_headers()
        chunk = b"\0" * 65536
        for _ in range(10_000):  # 650 MB if nobody stops it
            h.wfile.write(chunk)

    http_server.route("/endless", endless)
    with pytest.raises(UnsafeURLError, match="over the 1,000,000-byte limit"):
        asyncio.run(fetch_url_bytes(http_server.url("/endless"), max_bytes=1_000_000, timeout_s=20, policy=LOCAL))


def test_declared_oversize_body_is_refused_unread(http_server):
    def big(h):
        h.send_response(200)
        h.send_header("Content-Length", str(50_000_000))
        h.end_headers()

    http_server.route("/big", big)
    with pytest.raises(UnsafeURLError, match="50,000,000 bytes"):
        asyncio.run(fetch_url_bytes(http_server.url("/big"), max_bytes=1_000_000, timeout_s=5, policy=LOCAL))


def test_slow_drip_body_is_cut_by_the_total_deadline(http_server):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.end_headers()
        for _ in range(100):  # one byte every 0.2 s never trips a per-read timeout
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.2)

    http_server.route("/drip", drip)
    start = time.monotonic()
    with pytest.raises(UnsafeURLError, match="longer than 1s"):
        asyncio.run(fetch_url_bytes(http_server.url("/drip"), max_bytes=1_000_000, timeout_s=1, policy=LOCAL))
    assert time.monotonic() - start < 5  # cut off, not read to the end (20 s)


def test_http_error_status_is_reported(http_server):
    http_server.route("/gone", lambda h: h.send_error(410))
    with pytest.raises(UnsafeURLError, match="HTTP 410"):
        asyncio.run(fetch_url_bytes(http_server.url("/gone"), max_bytes=1000, timeout_s=5, policy=LOCAL))
