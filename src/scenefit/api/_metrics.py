"""Prometheus metrics of the service.

With ``--workers N`` each worker is its own process: `scenefit serve` then points
PROMETHEUS_MULTIPROC_DIR at a shared folder and /metrics aggregates every worker.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Every label value comes from a fixed set: a client choosing methods, paths or odd statuses
# must not be able to add series (each one is memory here and in every scraper).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def request_labels(method: str, route: str | None, status: int) -> tuple[str, str, str]:
    """(method, route, status) labels: a known method or "other", the route's template
    (never the path) or "unmatched", a real status code or "other"."""
    return (method if method in _METHODS else "other", route or "unmatched",
            str(status) if 100 <= status <= 599 else "other")


class Metrics:
    def __init__(self) -> None:
        # Own registry: several apps in one process (tests) must not collide in the global one.
        self.registry = CollectorRegistry()
        self.requests = Counter("scenefit_http_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("scenefit_http_request_seconds", "HTTP request latency by route",
                                 ["method", "route"], buckets=_BUCKETS, registry=self.registry)
        self.stage = Histogram("scenefit_match_stage_seconds",
                               "Time per match stage: match (whole request), decode, encode, search, adapter, appearance, rerank",
                               ["stage"], buckets=_BUCKETS, registry=self.registry)
        self.index_size = Gauge("scenefit_index_products", "Products in the loaded index",
                                registry=self.registry, multiprocess_mode="max")
        self.cache = Counter("scenefit_scene_cache_total", "Scene-embedding cache lookups", ["result"],
                             registry=self.registry)

    def observe_match(self, seconds: float, timings_ms: dict[str, float]) -> None:
        self.stage.labels("match").observe(seconds)
        for stage in ("decode", "encode", "search", "adapter", "appearance", "rerank"):
            if stage in timings_ms:
                self.stage.labels(stage).observe(timings_ms[stage] / 1000)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
