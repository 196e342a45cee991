"""Fetch catalog images: http(s) URLs into an on-disk cache, local paths checked in place.

Failures are data, not exceptions: every source gets a :class:`FetchResult` with a
one-line ``error``, because the caller reports them per row and one dead link must not
stop a 10 000-row build.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from .._atomic import atomic_path
from .._body_cap import OverCap, capped_body
from .._cache_root import cache_root
from ._guard import AddressPolicy, GuardedTransport, atls_context, one_line, url_problem

#: Consecutive connection-level failures after which a host's remaining URLs fail at once.
BREAKER_THRESHOLD = 5
#: Upper bound on a server's Retry-After we are willing to sleep.
_MAX_RETRY_AFTER_S = 30.0
# 408/429 and 5xx are "try again later"; every other 4xx will not change on retry.
_RETRY_STATUS = frozenset({408, 429, *range(500, 600)})
# Two or more letters, so a Windows drive ("C:\img.jpg") stays a local path.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")

# How an attempt's failure bears on its host's circuit breaker.
_REACHED, _CONNECTION, _NEUTRAL = "reached", "connection", "neutral"


def default_cache_dir() -> Path:
    """``images/`` in the user cache (:func:`scenefit._cache_root.cache_root`)."""
    return cache_root() / "images"


class FetchConfig(BaseModel):
    """Settings of :class:`ImageFetcher`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(16, ge=1, le=256, description="Most downloads in flight at once.")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout per request, seconds.")
    deadline_s: float | None = Field(
        None, gt=0, description="Most seconds one image may take from its first attempt, retries "
        "and their waits included; None: no limit but timeout_s per read.")
    total_deadline_s: float | None = Field(
        None, gt=0, description="Most seconds one fetch_many call may take; images not in by then "
        "fail. None: no limit (a catalog build takes as long as it takes).")
    retries: int = Field(2, ge=0, le=10, description="Extra attempts after a timeout, 429 or 5xx.")
    backoff_s: float = Field(0.5, ge=0, description="First retry delay; doubles on each retry.")
    max_bytes: int = Field(20_000_000, ge=1, description="Largest image body accepted, in bytes.")
    cache_dir: Path | None = Field(
        None, description="Where downloaded images are kept; None: default_cache_dir()."
    )
    user_agent: str = Field("scenefit/0.1 (catalog image fetcher)", description="User-Agent.")
    public_only: bool = Field(
        False, description="Refuse local paths and URLs of non-public addresses (for sources "
        "that come over the HTTP API, not from the operator's catalog file).",
    )
    allow_networks: tuple[str, ...] = Field(
        (), description="With public_only: networks still allowed (a trusted internal image host).",
    )


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome for one source: ``path`` on success, else a one-line ``error``."""

    source: str
    path: Path | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Fail(Exception):
    """A failed attempt; ``str()`` is the message the caller sees."""

    def __init__(self, msg: str, *, retryable: bool = False, host: str = _REACHED,
                 retry_after: float | None = None) -> None:
        super().__init__(msg)
        self.retryable, self.host, self.retry_after = retryable, host, retry_after


class _HostGate:
    """Per-host circuit breaker.

    Until a host has answered once, at most ``BREAKER_THRESHOLD - failures`` requests may
    be in flight to it, so a dead host costs exactly BREAKER_THRESHOLD connection attempts
    even with 16 workers starting at once; after that its URLs fail immediately.
    """

    def __init__(self) -> None:
        self.cond = asyncio.Condition()
        self.failures = 0  # consecutive connection-level failures
        self.reached = False
        self.in_flight = 0
        self.open_reason: str | None = None

    async def enter(self) -> str | None:
        """Wait for a slot; returns the reason if the breaker is open instead."""
        async with self.cond:
            await self.cond.wait_for(
                lambda: self.open_reason is not None
                or self.reached
                or self.in_flight + self.failures < BREAKER_THRESHOLD
            )
            if self.open_reason is None:
                self.in_flight += 1
            return self.open_reason

    async def leave(self, outcome: str, detail: str) -> None:
        async with self.cond:
            self.in_flight -= 1
            if outcome == _REACHED:
                self.reached, self.failures = True, 0
            elif outcome == _CONNECTION:
                self.failures += 1
                if self.failures >= BREAKER_THRESHOLD and self.open_reason is None:
                    self.open_reason = (
                        f"{self.failures} consecutive connection failures, last: {detail}"
                    )
            self.cond.notify_all()


class ImageFetcher:
    """Resolves image sources to local files. ``transport`` lets tests inject a mock."""

    def __init__(self, config: FetchConfig | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or FetchConfig()
        self.cache_dir = self.config.cache_dir or default_cache_dir()
        self._transport = transport

    def cache_path(self, url: str) -> Path:
        """The cache file for ``url`` (whether or not it exists yet)."""
        return self.cache_dir / hashlib.sha256(url.encode("utf-8")).hexdigest()

    def fetch_many(self, sources: Sequence[str], *,
                   progress: Callable[[int], None] | None = None) -> dict[str, FetchResult]:
        """Blocking wrapper of :meth:`afetch_many`."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.afetch_many(sources, progress=progress))
        # Called from inside a running loop (notebook, async web handler): asyncio.run()
        # refuses to nest, so give the fetch its own loop in a worker thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.afetch_many(sources, progress=progress)).result()

    async def afetch_many(self, sources: Sequence[str], *,
                          progress: Callable[[int], None] | None = None) -> dict[str, FetchResult]:
        """Fetch every source once; returns ``{source: FetchResult}`` in input order.

        ``progress(n)`` is called as sources finish, ``n`` being how many input entries
        finished (duplicates count), so the calls add up to ``len(sources)``.
        """
        counts = Counter(sources)  # dedupes, keeping first-seen order
        results: dict[str, FetchResult] = {}

        def finish(res: FetchResult) -> None:
            results[res.source] = res
            if progress is not None:
                progress(counts[res.source])

        urls: list[str] = []
        for source in counts:
            ref = source.strip()
            match = _SCHEME_RE.match(ref)
            if not ref:
                finish(FetchResult(source, None, "empty image reference"))
            elif match is None and self.config.public_only:
                finish(FetchResult(source, None, "local image paths are not accepted here; use an http(s) URL"))
            elif match is None:
                finish(_check_local(source, Path(ref)))
            elif match.group(1).lower() not in ("http", "https"):
                finish(FetchResult(source, None, f"unsupported URL scheme '{match.group(1)}:' "
                                                 "(only http(s) URLs and local paths)"))
            else:
                urls.append(source)

        if urls:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                message = f"cannot create image cache {self.cache_dir}: {exc}"
                for url in urls:
                    finish(FetchResult(url, None, message))
                urls = []
        if urls:
            sem = asyncio.Semaphore(self.config.concurrency)
            gates: dict[str, _HostGate] = {}
            n = self.config.concurrency
            limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
            transport = self._transport
            if self.config.public_only:
                # Every request must go through the guard: no proxies from the environment
                # (they would bypass it), and no .netrc credentials for hosts others chose.
                transport = GuardedTransport(AddressPolicy(self.config.allow_networks), transport, limits=limits)
                client_options: dict = {"trust_env": False}
            else:
                context = await atls_context()  # the shared one: no CA bundle loaded per call
                transport = transport or httpx.AsyncHTTPTransport(verify=context, limits=limits)
                client_options = {"verify": context}
            async with httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(self.config.timeout_s),
                headers={"User-Agent": self.config.user_agent, "Accept": "image/*,*/*;q=0.5"},
                follow_redirects=True,
                limits=limits,
                **client_options,
            ) as client:
                guard = transport if isinstance(transport, GuardedTransport) else None
                tasks = {asyncio.create_task(self._fetch_url(client, sem, gates, u, guard)): u for u in urls}
                await self._collect(tasks, finish)
        return {source: results[source] for source in counts}

    async def _collect(self, tasks: dict[asyncio.Task, str], finish: Callable[[FetchResult], None]) -> None:
        """Hand each result to ``finish`` as it comes; at ``total_deadline_s`` the rest fail."""
        total = self.config.total_deadline_s
        pending = set(tasks)
        limit = asyncio.timeout(total)
        try:
            async with limit:
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        finish(task.result())
            return
        except TimeoutError:
            if not limit.expired():
                raise
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)  # downloads remove their temp files
        for task in pending:
            if task.cancelled():
                finish(FetchResult(tasks[task], None, f"image took longer than {total:g}s "
                                                      "(the time allowed for all images together)"))
            else:
                finish(task.result())  # done just as the time ran out

    async def _fetch_url(self, client: httpx.AsyncClient, sem: asyncio.Semaphore,
                         gates: dict[str, _HostGate], source: str,
                         guard: GuardedTransport | None) -> FetchResult:
        try:
            return await self._fetch_checked(client, sem, gates, source, guard)
        except Exception as exc:  # noqa: BLE001 - failures are data: one odd host must not fail the call
            return FetchResult(source, None, f"request failed: {type(exc).__name__}: {one_line(exc)}"[:300])

    async def _fetch_checked(self, client: httpx.AsyncClient, sem: asyncio.Semaphore,
                             gates: dict[str, _HostGate], source: str,
                             guard: GuardedTransport | None) -> FetchResult:
        url = source.strip()
        if (problem := url_problem(url)) is not None:
            return FetchResult(source, None, f"invalid URL: {problem}")
        target = self.cache_path(url)
        if target.is_file():  # only complete files ever get this name (atomic_path renames them in)
            if guard is not None:
                # The cache is shared with the operator's own ingests, which may fetch from
                # internal hosts: a URL someone else chose gets a cached copy only if it
                # could have been fetched now.
                try:
                    await guard.check(httpx.URL(url))
                except httpx.HTTPError as exc:
                    return FetchResult(source, None, f"refused: {one_line(exc)}")
            return FetchResult(source, target, None)
        host = httpx.URL(url).raw_host.decode("ascii").lower()
        gate = gates.setdefault(host, _HostGate())
        if (reason := await gate.enter()) is not None:
            return FetchResult(source, None, f"host unreachable ({host}: {reason})")
        outcome, detail = _NEUTRAL, ""
        try:
            await self._download(client, sem, url, target)
            outcome = _REACHED
            return FetchResult(source, target, None)
        except _Fail as fail:
            outcome, detail = fail.host, str(fail)
            return FetchResult(source, None, str(fail))
        finally:
            await gate.leave(outcome, detail)

    async def _download(self, client: httpx.AsyncClient, sem: asyncio.Semaphore,
                        url: str, target: Path) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        deadline: float | None = None  # deadline_s after the first attempt starts (not queued time)
        for attempt in range(cfg.retries + 1):
            limit = None
            try:
                async with sem:  # held per attempt, not during backoff sleeps
                    if deadline is None and cfg.deadline_s is not None:
                        deadline = loop.time() + cfg.deadline_s
                    limit = asyncio.timeout_at(deadline)
                    async with limit:
                        return await self._attempt(client, url, target)
            except TimeoutError:
                if limit is None or not limit.expired():
                    raise
                raise self._late(attempt + 1) from None
            except httpx.HTTPError as exc:
                fail = _classify(exc, cfg.timeout_s)
            except (httpx.InvalidURL, UnicodeError) as exc:  # a redirect to a malformed URL
                fail = _Fail(f"invalid URL: {one_line(exc)}", host=_NEUTRAL)
            except _Fail as exc:
                fail = exc
            if not fail.retryable or attempt == cfg.retries:
                if attempt:
                    raise _Fail(f"{fail} (after {attempt + 1} attempts)", host=fail.host)
                raise fail
            # Jitter so that the 16 workers hit by one outage don't retry in lockstep.
            delay = cfg.backoff_s * 2**attempt * random.uniform(0.5, 1.0)
            if fail.retry_after is not None:
                delay = max(delay, min(fail.retry_after, _MAX_RETRY_AFTER_S))
            if deadline is not None and loop.time() + delay >= deadline:
                raise self._late(attempt + 1)  # the next try could not start in time
            await asyncio.sleep(delay)

    def _late(self, attempts: int) -> _Fail:
        """The failure of an image past ``deadline_s``: final, however many tries it had."""
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return _Fail(f"image took longer than {self.config.deadline_s:g}s{tries}", host=_NEUTRAL)

    async def _attempt(self, client: httpx.AsyncClient, url: str, target: Path) -> None:
        cap = self.config.max_bytes
        async with client.stream("GET", url) as resp:
            if not resp.is_success:
                code, wait = resp.status_code, resp.headers.get("retry-after", "").strip()
                raise _Fail(f"HTTP {code} {resp.reason_phrase}".rstrip(),
                            retryable=code in _RETRY_STATUS,
                            # Seconds form only; for an HTTP-date our own backoff will do.
                            retry_after=float(wait) if wait.isascii() and wait.isdigit() else None)
            try:
                body = capped_body(resp, cap)  # decoded chunks: also caps gzip bombs
            except OverCap as over:
                raise _Fail(f"image too large ({over.declared:,} bytes, limit {cap:,})") from None
            # Streamed into a temp file beside the target and published by rename, so other
            # processes sharing the cache never see half a file. No fsync: a cached image lost
            # in a crash is fetched again, and a sync per image would slow every ingest.
            try:
                with atomic_path(target, fsync=False) as tmp:
                    with tmp.open("wb") as fh:
                        try:
                            async for chunk in body:
                                fh.write(chunk)
                        except OverCap:
                            raise _Fail(f"image too large (more than {cap:,} bytes)") from None
                    _check_image(tmp, resp.headers.get("content-type"))
            except OSError as exc:
                raise _Fail(f"cannot write image cache: {exc}", host=_NEUTRAL) from None


def _check_local(source: str, path: Path) -> FetchResult:
    error = None
    if not path.exists():
        error = f"file not found: {path}"
    elif path.is_dir():
        error = f"is a directory, not an image file: {path}"
    elif not path.is_file():
        error = f"not a regular file: {path}"
    else:
        try:
            with path.open("rb"):  # os.access() lies under some ACLs; opening is the test
                pass
        except OSError as exc:
            error = f"cannot read {path}: {exc.strerror or exc}"
    return FetchResult(source, None if error else path, error)


def _check_image(path: Path, content_type: str | None) -> None:
    """Reject bodies PIL cannot identify (HTML error pages, JSON, empty bodies).

    Header only: decoding and pixel limits are open_image()'s job, so PIL's bomb check
    (which fires on the header size) is not a reason to reject here.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path):
                return
    except Image.DecompressionBombError:
        return
    except Exception:  # noqa: BLE001 - any PIL failure here means "not an image"
        pass
    with path.open("rb") as fh:
        head = fh.read(40)
    kind = (content_type or "unknown type").split(";")[0].strip()
    snippet = " ".join(head.decode("utf-8", "replace").split())
    raise _Fail(f"not an image (server sent {kind}: {snippet!r})" if head
                else f"not an image (empty body, {kind})")


def _classify(exc: httpx.HTTPError, timeout_s: float) -> _Fail:
    """Map an httpx error to a message, whether to retry, and its breaker meaning."""
    msg = one_line(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return _Fail(f"connect timeout after {timeout_s:g}s", retryable=True, host=_CONNECTION)
    if isinstance(exc, httpx.ConnectError):  # DNS failure, refused, TLS handshake: won't heal
        if msg == "All connection attempts failed":  # anyio's summary; the details are lost
            msg = "connection refused or host down"
        return _Fail(f"cannot connect: {msg}", host=_CONNECTION)
    if isinstance(exc, httpx.PoolTimeout):  # our own pool was busy: says nothing of the host
        return _Fail(f"timed out waiting for a connection ({timeout_s:g}s)", retryable=True,
                     host=_NEUTRAL)
    if isinstance(exc, httpx.TimeoutException):
        return _Fail(f"timed out after {timeout_s:g}s ({type(exc).__name__})", retryable=True)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):  # dropped mid-response
        return _Fail(f"connection dropped: {msg}", retryable=True)
    return _Fail(f"request failed: {msg}", host=_NEUTRAL)  # bad redirect target, bad URL…
