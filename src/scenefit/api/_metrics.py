"""Prometheus metrics of the service.

With ``--workers N`` each worker is its own process: `scenefit serve` then points
PROMETHEUS_MULTIPROC_DIR at a shared folder and /metrics aggregates every worker.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Fit scores lie in 0..1: tenths, enough to see a distribution shift on a dashboard.
_SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))

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
        # Per experiment variant: names come from the index's experiments file (a fixed,
        # validated set) or "default", never from a client.
        self.matches = Counter("scenefit_matches_total", "Matches served, by experiment variant", ["variant"],
                               registry=self.registry)
        self.empty = Counter("scenefit_match_empty_total", "Matches that returned no recommendation, by variant",
                             ["variant"], registry=self.registry)
        self.top_score = Histogram("scenefit_match_top_score", "Fit score of the first recommendation, by variant",
                                   ["variant"], buckets=_SCORE_BUCKETS, registry=self.registry)
        self.shown_score = Histogram("scenefit_match_shown_score", "Fit score of every recommendation shown, by variant",
                                     ["variant"], buckets=_SCORE_BUCKETS, registry=self.registry)
        self.feedback = Counter("scenefit_feedback_events_total", "Feedback events recorded, by variant and event",
                                ["variant", "event"], registry=self.registry)
        self.feedback_rejected = Counter("scenefit_feedback_rejected_total",
                                         "Feedback events refused, by reason", ["reason"], registry=self.registry)

    def observe_match(self, seconds: float, timings_ms: dict[str, float]) -> None:
        self.stage.labels("match").observe(seconds)
        for stage in ("decode", "encode", "search", "adapter", "appearance", "rerank"):
            if stage in timings_ms:
                self.stage.labels(stage).observe(timings_ms[stage] / 1000)

    def observe_result(self, variant: str, scores: list[float]) -> None:
        """A served match's picks, for the score and empty-result series of its variant."""
        self.matches.labels(variant).inc()
        if not scores:
            self.empty.labels(variant).inc()
            return
        self.top_score.labels(variant).observe(scores[0])
        for score in scores:
            self.shown_score.labels(variant).observe(score)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
