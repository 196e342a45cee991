"""What the views share: the engine, the settings and the metrics of one serving process."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import anyio

from .._settings import Settings
from ..embed import set_inference_threads
from ..engine import Engine
from ..images import AddressPolicy, FetchConfig
from ..index import set_search_threads
from .._types import SceneEmbedding
from ..scene import SceneCache, build_scene_cache
from ._errors import ApiError
from ._metrics import Metrics
from ._rate import RateLimiter

log = logging.getLogger("scenefit.api")

#: Seconds a refused client is told to wait: about one match's compute time.
RETRY_AFTER_S = 1
#: Seconds before a failed warm-up is tried again; doubled after each failure, up to the max.
RETRY_WARM_UP_S = 1.0
MAX_RETRY_WARM_UP_S = 30.0
#: Seconds between two deletions of feedback past its retention period.
RETENTION_EVERY_S = 3600.0


class Service:
    def __init__(self, index_dir: str | Path, settings: Settings | None = None, *,
                 engine: Engine | None = None, metrics: Metrics | None = None):
        self.settings = settings or Settings.from_env()
        self.metrics = metrics or Metrics()
        if self.settings.threads is not None and engine is None:
            set_inference_threads(self.settings.threads)  # before the model loads
            set_search_threads(self.settings.threads)
        cache = build_scene_cache(self.settings.redis_url, self.settings.scene_cache_size)
        self.engine = engine or Engine(
            index_dir,
            database_url=self.settings.database_url,
            runtime=self.settings.runtime,
            scene_cache=_CountedCache(cache, self.metrics),
            fetch=FetchConfig(public_only=True, allow_networks=self.settings.url_allow_networks,
                              total_deadline_s=self.settings.write_fetch_timeout_s),
            log=lambda message: None,
        )
        # Which addresses a scene's image_url may reach: parsed once, not per request.
        self.url_policy = AddressPolicy(self.settings.url_allow_networks)
        # Bounds inference per process (anyio's limiter: waiting requests hold no thread).
        self.inference = anyio.CapacityLimiter(self.settings.match_concurrency)
        # Bounds the matches admitted at all, computing or waiting: each holds its upload.
        self.admission = Admission(self.settings.match_concurrency + self.settings.match_queue)
        self.feedback_limiter = RateLimiter(self.settings.feedback_per_minute)
        self._ready = threading.Event()
        self.load_error: str | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def keep_warming(self, stop: threading.Event) -> None:
        """:meth:`warm_up` until it succeeds or ``stop`` is set, waiting longer after each
        failure: a process that started while its database was down, or before its index was
        built, turns ready once they are back, instead of staying out of its load balancer's
        rotation until someone restarts it."""
        delay = RETRY_WARM_UP_S
        while not self.warm_up() and not stop.wait(delay):
            delay = min(delay * 2, MAX_RETRY_WARM_UP_S)

    def warm_up(self) -> bool:
        """Load the index and the model (and embed the prompts) before the first request,
        so that it is not the one paying for it; /readyz turns ready when this is done.
        False if that failed (the reason is in ``load_error``)."""
        try:
            self.engine.index  # noqa: B018 - loads it
            analyzer = self.engine.analyzer  # loads the encoder, embeds the prompts
            # One pass on a blank photo: the first forward pass of a model is much slower.
            from PIL import Image

            analyzer.embed(Image.new("RGB", (256, 256), (128, 128, 128)))
            self.load_error = None
            self._ready.set()
            return True
        except Exception as exc:  # reported by /readyz; requests raise it again themselves
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("index or model failed to load: %s", self.load_error)
            return False

    def keep_retention(self, stop: threading.Event) -> None:
        """Delete recorded matches (photos, events) past the retention period, once the index
        is loaded and then every RETENTION_EVERY_S, until ``stop`` is set."""
        while not self._ready.is_set():
            if stop.wait(1.0):
                return
        while True:
            try:
                purged = self.engine.feedback.purge(self.settings.feedback_retention_days)
                if purged.matches:
                    log.info("retention: deleted %d matches, %d events, %d scene photos",
                             purged.matches, purged.events, purged.scenes)
            except Exception as exc:  # the store may be down for a while: tried again later
                log.error("retention: feedback purge failed: %s", exc)
            if stop.wait(RETENTION_EVERY_S):
                return


class Admission:
    """At most ``limit`` holders at once; one more is refused at once instead of queueing."""

    def __init__(self, limit: int):
        self.limit, self.held = limit, 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self.held >= self.limit:
                raise ApiError(503, "overloaded", "too many matches in progress; retry shortly",
                               headers={"Retry-After": str(RETRY_AFTER_S)})
            self.held += 1
        try:
            yield
        finally:
            with self._lock:
                self.held -= 1


class _CountedCache:
    """The scene cache, counting hits and misses for /metrics."""

    def __init__(self, inner: SceneCache, metrics: Metrics):
        self.inner, self.metrics = inner, metrics

    def get(self, key: str) -> SceneEmbedding | None:
        value = self.inner.get(key)
        self.metrics.cache.labels("hit" if value is not None else "miss").inc()
        return value

    def put(self, key: str, value: SceneEmbedding) -> None:
        self.inner.put(key, value)
