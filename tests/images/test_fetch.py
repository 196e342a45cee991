from __future__ import annotations

import asyncio
import hashlib
import io
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from PIL import Image

from scenefit.images import FetchConfig, FetchResult, ImageFetcher


def _png(colour: tuple[int, int, int] = (10, 20, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


class Recorder:
    """MockTransport handler that counts requests per URL and answers via ``respond``."""

    def __init__(self, respond) -> None:  # noqa: ANN001
        self.respond = respond
        self.calls: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.calls[url] += 1
        return self.respond(request, self.calls[url])

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _fetcher(tmp_path: Path, handler, **cfg) -> ImageFetcher:  # noqa: ANN001
    config = FetchConfig(cache_dir=tmp_path / "cache", backoff_s=0.001, timeout_s=1.0, **cfg)
    return ImageFetcher(config, transport=httpx.MockTransport(handler))


def _fetch_one(fetcher: ImageFetcher, source: str) -> FetchResult:
    return fetcher.fetch_many([source])[source]


def _no_partial_files(tmp_path: Path) -> bool:
    return not any(p.name.startswith(".") for p in (tmp_path / "cache").glob("*"))  # temp files are hidden


def test_success_then_cache_hit_without_network(tmp_path: Path) -> None:
    url = "https://img.example.com/a.png"
    headers = {"content-type": "image/png"}
    rec = Recorder(lambda req, n: httpx.Response(200, content=PNG, headers=headers))
    first = _fetch_one(_fetcher(tmp_path, rec), url)
    assert first.ok and first.error is None
    assert first.path == tmp_path / "cache" / hashlib.sha256(url.encode()).hexdigest()
    assert first.path.read_bytes() == PNG
    # A new fetcher (new process, same cache) must not touch the network.
    second = _fetch_one(_fetcher(tmp_path, rec), url)
    assert second.path == first.path and second.error is None
    assert rec.total == 1
    assert _no_partial_files(tmp_path)


def test_user_agent_is_sent(tmp_path: Path) -> None:
    seen = []

    def respond(req: httpx.Request, n: int) -> httpx.Response:
        seen.append(req.headers["user-agent"])
        return httpx.Response(200, content=PNG)

    fetcher = _fetcher(tmp_path, Recorder(respond), user_agent="test-agent/1")
    _fetch_one(fetcher, "http://h.example/x")
    assert seen == ["test-agent/1"]


@pytest.mark.parametrize("status", [503, 429, 500])
def test_retryable_status_then_success(tmp_path: Path, status: int) -> None:
    def respond(req: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(status) if n <= 2 else httpx.Response(200, content=PNG)

    rec = Recorder(respond)
    res = _fetch_one(_fetcher(tmp_path, rec, retries=2), "https://h.example/r.png")
    assert res.error is None and res.path is not None
    assert rec.total == 3


def test_retries_exhausted_reports_last_error(tmp_path: Path) -> None:
    rec = Recorder(lambda req, n: httpx.Response(503))
    res = _fetch_one(_fetcher(tmp_path, rec, retries=2), "https://h.example/down.png")
    assert res.path is None
    assert res.error == "HTTP 503 Service Unavailable (after 3 attempts)"
    assert rec.total == 3


@pytest.mark.parametrize("status", [404, 403, 410])
def test_client_errors_are_not_retried(tmp_path: Path, status: int) -> None:
    rec = Recorder(lambda req, n: httpx.Response(status))
    res = _fetch_one(_fetcher(tmp_path, rec, retries=3), "https://h.example/missing.png")
    assert res.path is None and res.error is not None
    assert res.error.startswith(f"HTTP {status} ")
    assert rec.total == 1


@pytest.mark.parametrize(("exc", "message"), [
    (httpx.ReadTimeout, "timed out after 1s"),
    (httpx.ConnectTimeout, "connect timeout after 1s"),
])
def test_timeouts_are_retried_then_reported(tmp_path: Path, exc: type, message: str) -> None:
    def respond(req: httpx.Request, n: int) -> httpx.Response:
        raise exc("too slow", request=req)

    rec = Recorder(respond)
    res = _fetch_one(_fetcher(tmp_path, rec, retries=1), "https://slow.example/t.png")
    assert res.path is None
    assert res.error is not None and res.error.startswith(message)
    assert "after 2 attempts" in res.error
    assert rec.total == 2


def test_body_over_cap_by_content_length(tmp_path: Path) -> None:
    rec = Recorder(lambda req, n: httpx.Response(200, content=PNG + b"\0" * 5000))
    res = _fetch_one(_fetcher(tmp_path, rec, max_bytes=1000), "https://h.example/big.png")
    assert res.path is None and res.error is not None and "too large" in res.error
    assert rec.total == 1  # a size problem is not retried
    assert _no_partial_files(tmp_path)


def test_body_over_cap_is_streamed_and_cut_off(tmp_path: Path) -> None:
    produced = []

    async def endless():
        # No content-length: only counting the streamed bytes can stop this.
        for i in range(10_000):
            produced.append(i)
            yield b"\0" * 1000

    rec = Recorder(lambda req, n: httpx.Response(200, content=endless()))
    res = _fetch_one(_fetcher(tmp_path, rec, max_bytes=5000), "https://h.example/stream.png")
    assert res.error == "image too large (more than 5,000 bytes)"
    assert len(produced) < 20
    assert _no_partial_files(tmp_path)
    assert not list((tmp_path / "cache").iterdir())


def test_html_error_page_is_rejected(tmp_path: Path) -> None:
    html = b"<!DOCTYPE html><html><body>Not found</body></html>"
    headers = {"content-type": "text/html; charset=utf-8"}
    rec = Recorder(lambda req, n: httpx.Response(200, content=html, headers=headers))
    url = "https://h.example/soft404.jpg"
    res = _fetch_one(_fetcher(tmp_path, rec), url)
    assert res.path is None
    assert res.error is not None
    assert res.error.startswith("not an image (server sent text/html: '<!DOCTYPE html>")
    assert rec.total == 1
    assert not list((tmp_path / "cache").iterdir())  # nothing cached, so a later run retries


def test_circuit_breaker_stops_hammering_a_dead_host(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()

    async def respond(req: httpx.Request) -> httpx.Response:
        calls[req.url.host] += 1
        # The lookup takes time, as a real one does: all 16 workers start before the
        # first failure is known, which is the case the breaker has to get right.
        await asyncio.sleep(0.02)
        if req.url.host == "dead.example":
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=req)
        return httpx.Response(200, content=PNG)

    dead = [f"https://dead.example/{i}.jpg" for i in range(40)]
    good = [f"https://good.example/{i}.jpg" for i in range(3)]
    config = FetchConfig(cache_dir=tmp_path / "cache", concurrency=16, retries=2, backoff_s=0.001)
    fetcher = ImageFetcher(config, transport=httpx.MockTransport(respond))
    results = fetcher.fetch_many(dead + good)

    dead_calls = calls["dead.example"]
    assert dead_calls == 5  # DNS failure: no retries, and only 5 attempts in all
    errors = [results[u].error or "" for u in dead]
    assert sum(e.startswith("cannot connect: [Errno -2]") for e in errors) == 5
    tripped = [e for e in errors if e.startswith("host unreachable (")]
    assert len(tripped) == 35
    assert "dead.example: 5 consecutive connection failures" in tripped[0]
    assert all(results[u].ok for u in good)


def test_breaker_counts_only_consecutive_failures(tmp_path: Path) -> None:
    # Every other request succeeds: the host is flaky, not dead, so nothing is short-circuited.
    def respond(req: httpx.Request, n: int) -> httpx.Response:
        if int(req.url.path.strip("/").split(".")[0]) % 2:
            raise httpx.ConnectError("connection refused", request=req)
        return httpx.Response(200, content=PNG)

    rec = Recorder(respond)
    urls = [f"https://flaky.example/{i}.jpg" for i in range(20)]
    results = _fetcher(tmp_path, rec, concurrency=1).fetch_many(urls)
    assert rec.total == 20
    assert not any("host unreachable" in (r.error or "") for r in results.values())


def test_duplicates_fetched_once_and_progress_adds_up(tmp_path: Path) -> None:
    rec = Recorder(lambda req, n: httpx.Response(200, content=PNG))
    a, b = "https://h.example/a.png", "https://h.example/b.png"
    ticks: list[int] = []
    sources = [a, b, a, a, "ftp://h.example/c.png"]
    results = _fetcher(tmp_path, rec).fetch_many(sources, progress=ticks.append)
    assert rec.calls == Counter({a: 1, b: 1})
    assert list(results) == [a, b, "ftp://h.example/c.png"]
    assert sum(ticks) == len(sources)
    assert results[a].path is not None and results[a].path != results[b].path


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    state = {"now": 0, "peak": 0}

    async def respond(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return httpx.Response(200, content=PNG)

    config = FetchConfig(cache_dir=tmp_path / "cache", concurrency=3)
    fetcher = ImageFetcher(config, transport=httpx.MockTransport(respond))
    results = fetcher.fetch_many([f"https://h{i % 4}.example/{i}.png" for i in range(24)])
    assert all(r.ok for r in results.values())
    assert 2 <= state["peak"] <= 3


def test_local_paths(tmp_path: Path) -> None:
    img = tmp_path / "local.png"
    img.write_bytes(PNG)
    rec = Recorder(lambda req, n: httpx.Response(500))
    missing, folder = str(tmp_path / "gone.png"), str(tmp_path)
    results = _fetcher(tmp_path, rec).fetch_many([str(img), missing, folder])
    assert results[str(img)] == FetchResult(str(img), img, None)
    assert results[missing].path is None and results[missing].error == f"file not found: {missing}"
    assert results[folder].error is not None and "is a directory" in results[folder].error
    assert rec.total == 0


@pytest.mark.parametrize("source", ["ftp://h/a.png", "file:///etc/passwd", "s3://bucket/k.jpg"])
def test_non_http_schemes_are_rejected(tmp_path: Path, source: str) -> None:
    rec = Recorder(lambda req, n: httpx.Response(200, content=PNG))
    res = _fetch_one(_fetcher(tmp_path, rec), source)
    assert res.path is None
    assert res.error is not None and res.error.startswith("unsupported URL scheme")
    assert rec.total == 0


def test_fetch_many_works_inside_a_running_loop(tmp_path: Path) -> None:
    rec = Recorder(lambda req, n: httpx.Response(200, content=PNG))
    fetcher = _fetcher(tmp_path, rec)

    async def caller() -> dict[str, FetchResult]:
        return fetcher.fetch_many(["https://h.example/in-loop.png"])

    results = asyncio.run(caller())
    assert results["https://h.example/in-loop.png"].ok


# -- deadlines ---------------------------------------------------------------------------------
def _slow(seconds: float, then=None):  # noqa: ANN001
    """An async MockTransport handler: waits ``seconds``, then answers ``then(request)`` (a PNG)."""
    calls: list[str] = []

    async def respond(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        await asyncio.sleep(seconds)
        return then(request) if then else httpx.Response(200, content=PNG)

    return calls, respond


def test_deadline_bounds_one_image_across_its_retries(tmp_path: Path) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    calls, respond = _slow(0.2, timeout)
    config = FetchConfig(cache_dir=tmp_path / "cache", retries=10, backoff_s=0.1, deadline_s=0.6)
    start = time.monotonic()
    res = _fetch_one(ImageFetcher(config, transport=httpx.MockTransport(respond)), "https://slow.example/a.png")
    # Eleven tries with doubling waits would take minutes; the deadline ends it within itself.
    assert res.error is not None and res.error.startswith("image took longer than 0.6s")
    assert 1 < len(calls) < 11 and time.monotonic() - start < 3
    assert _no_partial_files(tmp_path)


def test_deadline_cuts_a_hung_attempt(tmp_path: Path) -> None:
    calls, respond = _slow(30)
    config = FetchConfig(cache_dir=tmp_path / "cache", deadline_s=0.3)
    start = time.monotonic()
    res = _fetch_one(ImageFetcher(config, transport=httpx.MockTransport(respond)), "https://hung.example/a.png")
    assert res.error == "image took longer than 0.3s" and len(calls) == 1
    assert time.monotonic() - start < 3


def test_deadline_does_not_count_time_queued_behind_other_downloads(tmp_path: Path) -> None:
    calls, respond = _slow(0.4)
    config = FetchConfig(cache_dir=tmp_path / "cache", concurrency=1, deadline_s=1.0)
    urls = [f"https://h.example/{i}.png" for i in range(3)]  # the last waits 0.8 s for its turn
    results = ImageFetcher(config, transport=httpx.MockTransport(respond)).fetch_many(urls)
    assert all(r.ok for r in results.values()), results


def test_total_deadline_fails_what_is_not_in_by_then(tmp_path: Path) -> None:
    calls, respond = _slow(30)

    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/quick.png":
            return httpx.Response(200, content=PNG)
        return await respond(request)

    config = FetchConfig(cache_dir=tmp_path / "cache", total_deadline_s=0.5)
    slow = [f"https://h{i}.example/slow.png" for i in range(3)]
    ticks: list[int] = []
    start = time.monotonic()
    results = ImageFetcher(config, transport=httpx.MockTransport(route)).fetch_many(
        [*slow, "https://q.example/quick.png"], progress=ticks.append)
    assert time.monotonic() - start < 3
    assert results["https://q.example/quick.png"].ok
    assert all(results[u].error == "image took longer than 0.5s (the time allowed for all images together)"
               for u in slow), results
    assert sum(ticks) == 4 and len(calls) == 3
    assert _no_partial_files(tmp_path)


def test_a_non_ascii_digit_retry_after_is_ignored_not_a_crash(tmp_path: Path) -> None:
    url = "https://img.example.com/busy.png"
    rec = Recorder(lambda req, n: httpx.Response(503, headers={"retry-after": "\u00b2".encode("latin-1")}))
    result = _fetch_one(_fetcher(tmp_path, rec, retries=1), url)
    assert not result.ok and "503" in result.error and rec.total == 2


def test_an_unexpected_error_fails_its_image_not_the_call(tmp_path: Path) -> None:
    good, bad = "https://img.example.com/ok.png", "https://img.example.com/odd.png"

    def respond(req, n):
        if str(req.url) == bad:
            raise RuntimeError("something no one foresaw")
        return httpx.Response(200, content=PNG)

    results = _fetcher(tmp_path, Recorder(respond)).fetch_many([good, bad])
    assert results[good].ok
    assert "RuntimeError: something no one foresaw" in results[bad].error


def test_no_room_for_a_temp_file_is_a_per_image_failure(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    def full(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    result = _fetch_one(_fetcher(tmp_path, Recorder(lambda req, n: httpx.Response(200, content=PNG))),
                        "https://img.example.com/a.png")
    assert not result.ok and "cannot write image cache" in result.error
