"""Fetching URLs that someone else chose, safely (SSRF guard).

A URL given to the service (a scene's ``image_url``, a product's image) must not make the
server reach its own loopback, the private network behind it or a cloud metadata endpoint.
:class:`GuardedTransport` wraps an httpx transport: for every request — each redirect hop
included, since httpx sends each through the transport — it resolves the host, refuses the
request unless every address is public, and then connects to the address it checked (the
``Host`` header and TLS name stay the original host), so a DNS answer that changes between
the check and the connect (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field

import httpx

from .._errors import ImageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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

    def permits(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
        if any(ip in ipaddress.ip_network(n, strict=False) for n in self.allow):
            return True
        return ip.is_global and not ip.is_multicast


class GuardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, policy: AddressPolicy | None = None, inner: httpx.AsyncBaseTransport | None = None):
        self.policy = policy or AddressPolicy()
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise BlockedAddress(f"scheme {url.scheme!r} is not allowed (http or https only)", request=request)
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
            addresses = [literal]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}", request=request) from None
            addresses = list(dict.fromkeys(ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos))
        refused = [a for a in addresses if not self.policy.permits(a)]
        if refused or not addresses:
            raise BlockedAddress(f"{host} resolves to a non-public address ({refused[0] if refused else 'none'})",
                                 request=request)
        pinned = httpx.Request(
            request.method, url.copy_with(host=str(addresses[0])), headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def fetch_url_bytes(url: str, *, max_bytes: int, timeout_s: float,
                          policy: AddressPolicy | None = None, max_redirects: int = 3,
                          transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    """GET ``url`` through the guard: at most ``max_bytes`` of body and ``timeout_s`` in
    all (a slow-drip or endless body is cut off), redirects checked hop by hop."""
    if not url.lower().startswith(("http://", "https://")):
        raise UnsafeURLError("image_url must be an http:// or https:// URL")
    guarded = GuardedTransport(policy, transport)
    try:
        async with asyncio.timeout(timeout_s):
            async with httpx.AsyncClient(transport=guarded, follow_redirects=True,
                                         max_redirects=max_redirects, timeout=timeout_s,
                                         headers={"User-Agent": "scenefit/0.1 (scene fetcher)"}) as client:
                async with client.stream("GET", url) as resp:
                    if not resp.is_success:
                        raise UnsafeURLError(f"image_url answered HTTP {resp.status_code}")
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise UnsafeURLError(f"image_url body is {int(declared):,} bytes (limit {max_bytes:,})")
                    chunks, size = [], 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise UnsafeURLError(f"image_url body is over the {max_bytes:,}-byte limit")
                        chunks.append(chunk)
                    return b"".join(chunks)
    except TimeoutError:
        raise UnsafeURLError(f"image_url took longer than {timeout_s:g}s") from None
    except BlockedAddress as exc:
        raise UnsafeURLError(f"image_url refused: {exc}") from None
    except httpx.TooManyRedirects:
        raise UnsafeURLError(f"image_url redirects more than {max_redirects} times") from None
    except httpx.HTTPError as exc:
        raise UnsafeURLError(f"image_url could not be fetched: {' '.join(str(exc).split()) or type(exc).__name__}") from None
