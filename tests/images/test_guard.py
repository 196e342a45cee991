"""The SSRF guard: address policy, pinned connections, redirects, size and time caps."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import ssl
import time

import httpx
import pytest
from PIL import Image

from scenefit.images import (AddressPolicy, FetchConfig, GuardedTransport, ImageFetcher, UnsafeURLError,
                             fetch_url_bytes)
from scenefit.images import _guard

LOCAL = AddressPolicy(allow=("127.0.0.1/32",))


def _redirect(http_server, path: str, location: str) -> None:
    """``path`` on the test server answers 302 to ``location``."""
    def redirect(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    http_server.route(path, redirect)


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
    http_server.serve("/img.png", body)
    got = asyncio.run(fetch_url_bytes(http_server.url("/img.png"), max_bytes=10_000, timeout_s=5, policy=LOCAL))
    assert got == body


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/", "http://10.0.0.7/x.png",
                                    "http://127.0.0.2/x.png", "file:///etc/passwd"])
def test_redirect_to_a_private_address_is_refused(http_server, target):
    _redirect(http_server, "/r", target)
    with pytest.raises(UnsafeURLError, match="refused|scheme|could not be fetched"):
        asyncio.run(fetch_url_bytes(http_server.url("/r"), max_bytes=10_000, timeout_s=5, policy=LOCAL))


def test_redirect_loop_is_cut(http_server):
    _redirect(http_server, "/loop", "/loop")
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


# -- IPv6 forms that carry an IPv4 address ---------------------------------------------------
TEREDO = "2001:0:4136:e378:8000:63bf:3fff:fdd2"


@pytest.mark.parametrize("address, ok", [
    ("64:ff9b::a00:1", False), ("64:ff9b::7f00:1", False), ("64:ff9b::a9fe:a9fe", False),  # NAT64
    ("64:ff9b::808:808", True), ("64:ff9b:1::a00:1", False), ("64:ff9b:1::808:808", False),
    ("::127.0.0.1", False), ("::10.0.0.1", False), ("::", False),  # IPv4-compatible
    ("2002:7f00:1::", False), ("2002:a9fe:a9fe::1", False), ("2002:a00:1:5::1", False),  # 6to4
    ("2002:808:808::1", True), (TEREDO, False),
    # outside 2000::/3, though Python 3.11 calls some of them global
    ("::ffff:0:7f00:1", False), ("::ffff:0:0:7f00:1", False), ("fec0::1", False), ("4000::1", False),
    ("2606:4700:4700::1111", True),
])
def test_ipv6_forms_are_judged_by_the_ipv4_address_inside(address, ok):
    assert AddressPolicy().permits(ipaddress.ip_address(address)) is ok


def test_an_allowed_network_still_wins_over_the_ipv6_forms():
    assert AddressPolicy(allow=("64:ff9b::/96",)).permits(ipaddress.ip_address("64:ff9b::a00:1"))
    assert AddressPolicy(allow=("10.0.0.0/8",)).permits(ipaddress.ip_address("64:ff9b::a00:1"))
    assert AddressPolicy(allow=("2001::/32",)).permits(ipaddress.ip_address(TEREDO))
    assert not AddressPolicy(allow=("10.0.0.0/8",)).permits(ipaddress.ip_address("64:ff9b::7f00:1"))


EMBEDDING = ["64:ff9b::a9fe:a9fe", "::169.254.169.254", "2002:a00:1::", TEREDO]


def _mock_inner():
    calls = []
    return calls, httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200, content=b"x"))


@pytest.mark.parametrize("address", EMBEDDING)
def test_ipv6_literals_embedding_private_ipv4_are_refused(address):
    calls, inner = _mock_inner()
    with pytest.raises(UnsafeURLError, match="refused: .* is a non-public address"):
        asyncio.run(fetch_url_bytes(f"http://[{address}]/x.png", max_bytes=1000, timeout_s=5, transport=inner))
    assert calls == []


@pytest.mark.parametrize("address", EMBEDDING)
def test_names_resolving_to_ipv6_forms_of_private_ipv4_are_refused(monkeypatch, tmp_path, address):
    _resolving(monkeypatch, [address])
    calls, inner = _mock_inner()
    with pytest.raises(UnsafeURLError, match=f"non-public address \\({ipaddress.ip_address(address)}\\)"):
        asyncio.run(fetch_url_bytes("http://nat64.example.com/x.png", max_bytes=1000, timeout_s=5, transport=inner))
    config = FetchConfig(cache_dir=tmp_path / "cache", public_only=True, retries=0)
    result = ImageFetcher(config, transport=inner).fetch_many(["http://nat64.example.com/y.png"])
    assert "non-public" in result["http://nat64.example.com/y.png"].error
    assert calls == []


@pytest.mark.parametrize("address", EMBEDDING)
def test_redirect_to_an_ipv6_form_of_a_private_ipv4_is_refused(http_server, tmp_path, address):
    _redirect(http_server, "/r", f"http://[{address}]/latest/meta-data/")
    with pytest.raises(UnsafeURLError, match="refused: .* is a non-public address"):
        asyncio.run(fetch_url_bytes(http_server.url("/r"), max_bytes=10_000, timeout_s=5, policy=LOCAL))
    config = FetchConfig(cache_dir=tmp_path / "cache", public_only=True, allow_networks=LOCAL.allow, retries=0)
    result = ImageFetcher(config).fetch_many([http_server.url("/r")])[http_server.url("/r")]
    assert "non-public" in result.error


# -- malformed and legacy-numeric hosts ------------------------------------------------------
INVALID = ["http://0177.0.0.1/x.png", "http://256.1.1.1/x.png", "http://a..b/x.png", "http://.example.com/",
           "http://" + "a" * 300 + ".com/x.png", "http://" + "a" * 64 + ".example.com/", "http://[zz::1]/",
           "http://xn--a.com/x.png", "http://exa mple.com/x.png", "http://" + "abc." * 70 + "com/"]
NUMERIC = ["http://2130706433/x.png", "http://0x7f.1/x.png", "http://0x7f000001/", "http://127.1/",
           "http://017700000001/", "http://127.0.0.1./"]
EVERYWHERE = AddressPolicy(allow=("0.0.0.0/0", "::/0"))


def _no_resolver(monkeypatch):
    async def fail(self, host, port, **kw):
        raise AssertionError(f"{host} went to the resolver")

    monkeypatch.setattr(asyncio.unix_events._UnixSelectorEventLoop, "getaddrinfo", fail)


@pytest.mark.parametrize("url", INVALID)
def test_malformed_hosts_are_an_unsafe_url_error(monkeypatch, url):
    _no_resolver(monkeypatch)
    calls, inner = _mock_inner()
    with pytest.raises(UnsafeURLError, match="image_url is not a valid URL: "):
        asyncio.run(fetch_url_bytes(url, max_bytes=1000, timeout_s=5, policy=EVERYWHERE, transport=inner))
    assert calls == []


@pytest.mark.parametrize("url", NUMERIC)
def test_legacy_numeric_ipv4_forms_are_refused_not_resolved(monkeypatch, url):
    _no_resolver(monkeypatch)  # glibc reads 0177.0.0.1 or 2130706433 as 127.0.0.1
    calls, inner = _mock_inner()
    # Refused even where every address is allowed: the policy never saw what they stand for.
    with pytest.raises(UnsafeURLError, match="refused: .* is not a dotted-quad IPv4 address"):
        asyncio.run(fetch_url_bytes(url, max_bytes=1000, timeout_s=5, policy=EVERYWHERE, transport=inner))
    assert calls == []


def test_a_redirect_to_a_malformed_host_is_an_unsafe_url_error(http_server):
    _redirect(http_server, "/r", "http://a..b/x.png")
    with pytest.raises(UnsafeURLError, match="refused: 'a..b' is not a valid host name"):
        asyncio.run(fetch_url_bytes(http_server.url("/r"), max_bytes=10_000, timeout_s=5, policy=LOCAL))


@pytest.mark.parametrize("public_only", [True, False])
def test_the_fetcher_reports_malformed_hosts_per_image(tmp_path, public_only):
    calls, inner = _mock_inner()
    config = FetchConfig(cache_dir=tmp_path / "cache", public_only=public_only, retries=0)
    results = ImageFetcher(config, transport=inner).fetch_many(INVALID)
    assert all(r.error and r.error.startswith("invalid URL: ") for r in results.values()), results
    assert calls == []


def test_the_fetcher_refuses_legacy_numeric_hosts_when_public_only(tmp_path, monkeypatch):
    _no_resolver(monkeypatch)
    calls, inner = _mock_inner()
    config = FetchConfig(cache_dir=tmp_path / "cache", public_only=True, allow_networks=("0.0.0.0/0",), retries=0)
    results = ImageFetcher(config, transport=inner).fetch_many(NUMERIC)
    assert all("not a dotted-quad IPv4 address" in r.error for r in results.values()), results
    assert calls == []


# -- TLS setup: once per process, never for a refused request --------------------------------
@pytest.fixture
def ca_loads(monkeypatch):
    """Counts CA bundle loads from now on, starting with no shared TLS context."""
    monkeypatch.setattr(_guard, "_tls", None, raising=False)
    loads = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        loads.append(args or kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    return loads


def test_the_ca_bundle_is_loaded_once_for_all_fetches(http_server, tmp_path, ca_loads):
    body = _png()
    http_server.serve("/img.png", body, content_type=None)
    for _ in range(5):
        assert asyncio.run(fetch_url_bytes(http_server.url("/img.png"), max_bytes=10_000, timeout_s=5,
                                           policy=LOCAL)) == body
    for i, public_only in enumerate([True, False, True]):
        config = FetchConfig(cache_dir=tmp_path / f"cache{i}", public_only=public_only, allow_networks=LOCAL.allow)
        assert ImageFetcher(config).fetch_many([http_server.url("/img.png")])[http_server.url("/img.png")].ok
    assert len(ca_loads) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1/x.png", "http://[64:ff9b::a00:1]/", "https://10.0.0.1/",
                                 "http://0177.0.0.1/", "http://2130706433/", "https://private.example.com/"])
def test_a_refused_url_builds_no_transport_and_no_tls(monkeypatch, ca_loads, url):
    _resolving(monkeypatch, ["10.1.2.3"])
    built = []
    real = httpx.AsyncHTTPTransport.__init__
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "__init__",
                        lambda self, *a, **kw: built.append(1) or real(self, *a, **kw))
    with pytest.raises(UnsafeURLError):
        asyncio.run(fetch_url_bytes(url, max_bytes=1000, timeout_s=5))
    assert built == [] and ca_loads == []


def test_the_tls_context_is_built_off_the_event_loop(http_server, monkeypatch):
    monkeypatch.setattr(_guard, "_tls", None, raising=False)
    on_loop = []
    real = httpx.create_ssl_context

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", recording)
    http_server.route("/ok", lambda h: (h.send_response(200), h.send_header("Content-Length", "2"),
                                        h.end_headers(), h.wfile.write(b"ok")))
    asyncio.run(fetch_url_bytes(http_server.url("/ok"), max_bytes=100, timeout_s=5, policy=LOCAL))
    assert on_loop == [False]


def test_a_bad_allowed_network_is_a_config_error_at_once():
    from scenefit import ConfigError
    from scenefit._settings import Settings

    with pytest.raises(ConfigError, match="images.internal"):
        AddressPolicy(allow=("images.internal",))
    with pytest.raises(ConfigError, match="SCENEFIT_URL_ALLOW_NETWORKS.*images.internal"):
        Settings.from_env({"SCENEFIT_URL_ALLOW_NETWORKS": "10.0.0.0/8,images.internal"})


def test_a_cached_copy_is_not_handed_to_a_url_the_guard_refuses(tmp_path, monkeypatch):
    """The image cache is shared with the operator's own ingests, which may fetch from an
    internal host; a public-only fetch of the same URL must not get that copy."""
    url = "http://images.internal.example/secret.png"
    cache = tmp_path / "cache"
    trusted = ImageFetcher(FetchConfig(cache_dir=cache),
                           transport=httpx.MockTransport(lambda r: httpx.Response(200, content=_png())))
    assert trusted.fetch_many([url])[url].ok
    _resolving(monkeypatch, ["10.0.0.5"])
    calls, inner = _mock_inner()
    result = ImageFetcher(FetchConfig(cache_dir=cache, public_only=True), transport=inner).fetch_many([url])[url]
    assert not result.ok and "non-public" in result.error and calls == []
    _resolving(monkeypatch, ["93.184.216.34"])  # the same name, now public: the cached copy is fine
    again = ImageFetcher(FetchConfig(cache_dir=cache, public_only=True), transport=inner).fetch_many([url])[url]
    assert again.ok and again.path == trusted.cache_path(url) and calls == []
