"""A cap on a body's size while it streams: the declared length first, then the running total.

One implementation for every body that arrives from someone else: a request's upload (the
service's middleware) and a downloaded image (the fetcher, the scene URL fetch). A body is
stopped as soon as it passes the cap, never buffered whole first.
"""

from __future__ import annotations

from typing import AsyncIterator

import httpx


class OverCap(Exception):
    """The body is over ``limit`` bytes: ``declared`` is the length its header announced, or
    None when the streamed bytes passed the limit (no length, or a wrong one)."""

    def __init__(self, limit: int, declared: int | None = None):
        self.limit, self.declared = limit, declared
        super().__init__(f"body over {limit} bytes" + (f" (declares {declared})" if declared is not None else ""))


class ByteCap:
    """Counts a body against ``limit``; :class:`OverCap` once it is past."""

    def __init__(self, limit: int):
        self.limit = limit
        self.seen = 0

    def declare(self, content_length: str | bytes | None) -> None:
        """Check a Content-Length header (ignored unless it is a plain number)."""
        if content_length and content_length.isdigit() and int(content_length) > self.limit:
            raise OverCap(self.limit, int(content_length))

    def take(self, chunk: bytes) -> bytes:
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise OverCap(self.limit)
        return chunk


def capped_body(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """The decoded chunks of a streamed httpx response (so a gzip bomb is capped too), at
    most ``limit`` bytes; the declared length is checked now, before anything is read."""
    cap = ByteCap(limit)
    cap.declare(response.headers.get("content-length"))

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in response.aiter_bytes():
            yield cap.take(chunk)

    return chunks()
