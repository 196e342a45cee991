"""Fetching URLs that someone else chose, safely (SSRF guard).

A URL given to the service (a scene's ``image_url``, a product's image) must not make the
server reach its own loopback, the private network behind it or a cloud metadata endpoint.
:class:`GuardedTransport` wraps an httpx transport: for every request — each redirect hop
included, since httpx sends each through the transport — it checks the host name, resolves
it, refuses the request unless every address is public, and then connects to the address it
checked (the ``Host`` header and TLS name stay the original host), so a DNS answer that
changes between the check and the connect (rebinding) cannot slip through.

Refusals come before any connection or TLS work, and the TLS context (CA bundle) is built
once per process and shared: a flood of refused URLs costs the event loop next to nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field

import httpx

from .._body_cap import OverCap, capped_body
from .._errors import ConfigError, ImageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 forms that carry an IPv4 address which a translator or tunnel then reaches: the
# embedded address is what gets connected to, so it is the one the policy judges.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the IPv4 address in the low 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # operator prefixes: where the IPv4 sits varies
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")

# What inet_aton (and so glibc's getaddrinfo) reads as an IPv4 address: one to four parts,
# each decimal, octal (leading 0) or hex (0x). Only the canonical dotted quad is accepted.
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.IGNORECASE)
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.IGNORECASE)


class UnsafeURLError(ImageError):
    """A URL the service refuses to fetch (scheme, private address, size, time)."""

    code = "unsafe_url"


class BlockedAddress(httpx.TransportError):
    """Raised inside httpx for a request to an address the policy refuses."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be fetched: public (globally routable) ones only, unless a network
    is listed in ``allow`` (for a trusted internal image host, and for tests)."""

    allow: tuple[str, ...] = field(default=())
    _networks: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsed once, here: a bad entry is a configuration error at start-up, not a
        # ValueError on every request that reaches the check.
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in self.allow)
        except ValueError as exc:
            raise ConfigError(f"allowed networks: {exc} (give networks such as 10.1.0.0/16)") from None
        object.__setattr__(self, "_networks", networks)

    def permits(self, ip: IPAddress) -> bool:
        if any(ip in n for n in self._networks):
            return True
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(ip)
            if embedded is not None:
                return self.permits(embedded)  # ::ffff:127.0.0.1 is loopback
            if ip in _NAT64_LOCAL or ip.teredo is not None:
                return False  # an IPv4 address inside that cannot be read off reliably
            if ip not in _GLOBAL_UNICAST:
                # Reserved and deprecated ranges (SIIT ::ffff:0:0:0/96, site-local fec0::/10 …)
                # that some Python versions call global: only 2000::/3 is routed publicly.
                return False
        return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a mapped, NAT64 (well-known prefix), 6to4 or IPv4-compatible
    address leads to; None for a plain IPv6 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:  # :: and ::1 come out as 0.0.0.x: refused
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def host_problem(host: str) -> str | None:
    """Why ``host`` (as it goes on the wire: punycode, no brackets) is not a valid host, or
    None."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not a valid IPv6 address"
        return None
    name = host[:-1] if host.endswith(".") else host
    if not name:
        return "no host name"
    if len(name) > 253:
        return "host name longer than 253 characters"
    if not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return f"{host[:80]!r} is not a valid host name (empty, over-long or odd-character label)"
    return None


def _legacy_ipv4(host: str) -> bool:
    """A host the resolver would read as an IPv4 address the policy never saw: octal, hex,
    integer or short forms (``0177.0.0.1``, ``0x7f.1``, ``2130706433``, ``127.1``)."""
    if not _NUMERIC_HOST.fullmatch(host):
        return False
    try:
        return str(ipaddress.IPv4Address(host)) != host
    except ValueError:
        return True


def one_line(exc: BaseException) -> str:
    """An exception as one line of a message (httpx's span several), never empty."""
    return " ".join(str(exc).split()) or type(exc).__name__


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a well-formed http(s) URL with a usable host, or None."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:  # IDNA errors are UnicodeErrors
        return one_line(exc)
    if parsed.scheme not in ("http", "https"):
        return "not an http(s) URL"
    return host_problem(host)


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The process's one TLS client context (CA bundle loaded once). A context is not bound
    to an event loop, unlike a transport's connection pool, so every transport shares it.
    Loading it blocks: async code calls :func:`atls_context`."""
    global _tls
    if _tls is None:
        with _tls_lock:
            if _tls is None:
                _tls = httpx.create_ssl_context()
    return _tls


async def atls_context() -> ssl.SSLContext:
    """:func:`tls_context`, built in a worker thread the first time (never on the loop)."""
    return _tls if _tls is not None else await asyncio.to_thread(tls_context)


class GuardedTransport(httpx.AsyncBaseTransport):
    """``inner`` None: an httpx transport (with ``limits``) is made on the first request the
    policy lets through, on the shared TLS context."""

    def __init__(self, policy: AddressPolicy | None = None, inner: httpx.AsyncBaseTransport | None = None,
                 *, limits: httpx.Limits | None = None):
        self.policy = policy or AddressPolicy()
        self._inner = inner
        self._limits = limits

    async def check(self, url: httpx.URL, request: httpx.Request | None = None) -> list[IPAddress]:
        """The addresses ``url``'s host may be reached at, all permitted by the policy;
        :class:`BlockedAddress` (or httpx.ConnectError when it does not resolve) otherwise."""
        if url.scheme not in ("http", "https"):
            raise BlockedAddress(f"scheme {url.scheme!r} is not allowed (http or https only)", request=request)
        host = url.raw_host.decode("ascii")
        if (problem := host_problem(host)) is not None:
            raise BlockedAddress(problem, request=request)
        if _legacy_ipv4(host):
            raise BlockedAddress(f"{host} is not a dotted-quad IPv4 address (other numeric forms are not "
                                 "accepted)", request=request)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if not self.policy.permits(literal):
                raise BlockedAddress(f"{host} is a non-public address", request=request)
            return [literal]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}",
                                     request=request) from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos))
        refused = [a for a in addresses if not self.policy.permits(a)]
        if refused or not addresses:
            raise BlockedAddress(f"{host} resolves to a non-public address "
                                 f"({refused[0] if refused else 'none'})", request=request)
        return addresses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        addresses = await self.check(request.url, request)
        host = request.url.raw_host.decode("ascii")
        pinned = httpx.Request(
            request.method, request.url.copy_with(host=str(addresses[0])), headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        if self._inner is None:
            context = await atls_context()
            if self._inner is None:  # checked again: another request may have made it meanwhile
                kwargs = {"limits": self._limits} if self._limits is not None else {}
                self._inner = httpx.AsyncHTTPTransport(verify=context, **kwargs)
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


async def fetch_url_bytes(url: str, *, max_bytes: int, timeout_s: float,
                          policy: AddressPolicy | None = None, max_redirects: int = 3,
                          transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    """GET ``url`` through the guard: at most ``max_bytes`` of body and ``timeout_s`` in
    all (a slow-drip or endless body is cut off), redirects checked hop by hop."""
    if not url.lower().startswith(("http://", "https://")):
        raise UnsafeURLError("image_url must be an http:// or https:// URL")
    if (problem := url_problem(url)) is not None:
        raise UnsafeURLError(f"image_url is not a valid URL: {problem}")
    guarded = GuardedTransport(policy, transport)
    try:
        async with asyncio.timeout(timeout_s):
            # trust_env off: an HTTP(S)_PROXY from the environment would take requests past
            # the guard, and .netrc credentials must not go to a host someone else chose.
            async with httpx.AsyncClient(transport=guarded, follow_redirects=True, trust_env=False,
                                         max_redirects=max_redirects, timeout=timeout_s,
                                         headers={"User-Agent": "scenefit/0.1 (scene fetcher)"}) as client:
                async with client.stream("GET", url) as resp:
                    if not resp.is_success:
                        raise UnsafeURLError(f"image_url answered HTTP {resp.status_code}")
                    try:
                        return b"".join([chunk async for chunk in capped_body(resp, max_bytes)])
                    except OverCap as over:
                        if over.declared is not None:
                            raise UnsafeURLError(f"image_url body is {over.declared:,} bytes (limit {max_bytes:,})") from None
                        raise UnsafeURLError(f"image_url body is over the {max_bytes:,}-byte limit") from None
    except TimeoutError:
        raise UnsafeURLError(f"image_url took longer than {timeout_s:g}s") from None
    except BlockedAddress as exc:
        raise UnsafeURLError(f"image_url refused: {exc}") from None
    except httpx.TooManyRedirects:
        raise UnsafeURLError(f"image_url redirects more than {max_redirects} times") from None
    except httpx.HTTPError as exc:
        raise UnsafeURLError(f"image_url could not be fetched: {one_line(exc)}") from None
    except (httpx.InvalidURL, UnicodeError) as exc:  # a redirect's target, say
        raise UnsafeURLError(f"image_url is not a valid URL: {one_line(exc)}") from None
