"""The one body cap: a declared length over the limit, or streamed bytes past it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from scenefit._body_cap import ByteCap, OverCap, capped_body


def test_declared_length_over_the_limit_is_refused_before_reading():
    cap = ByteCap(10)
    cap.declare("10")
    cap.declare(b"")  # no length: nothing to say yet
    cap.declare("ten")  # not a number: the streamed count decides
    with pytest.raises(OverCap) as exc:
        cap.declare(b"11")
    assert exc.value.declared == 11 and exc.value.limit == 10


def test_streamed_bytes_past_the_limit_are_refused():
    cap = ByteCap(5)
    assert cap.take(b"abc") == b"abc"
    assert cap.take(b"de") == b"de"
    with pytest.raises(OverCap) as exc:
        cap.take(b"f")
    assert exc.value.declared is None and cap.seen == 6


def _response(body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    async def chunks():
        for i in range(0, len(body), 4):
            yield body[i:i + 4]

    return httpx.Response(200, headers=headers or {}, content=chunks())


async def _read(response: httpx.Response, limit: int) -> bytes:
    return b"".join([c async for c in capped_body(response, limit)])


def test_capped_body_reads_what_fits_and_stops_what_does_not():
    assert asyncio.run(_read(_response(b"x" * 12), 12)) == b"x" * 12
    with pytest.raises(OverCap) as exc:
        asyncio.run(_read(_response(b"x" * 13), 12))  # no declared length: counted as it streams
    assert exc.value.declared is None
    with pytest.raises(OverCap):  # a declared length is checked before iteration starts
        capped_body(_response(b"x", {"content-length": "99"}), 12)
