"""Scoring products against the regions of a scene photo, optionally through a fitted adapter.

The ranker only needs what :class:`RegionAdapter` declares; the adapter itself is fitted and
saved by :mod:`scenefit.learn`, which depends on this package, never the other way round.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class RegionAdapter(Protocol):
    """A map applied to scene regions and product photos alike before their cosine."""

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Vectors (rows) through the map, L2-normalised."""

    def apply_cached(self, x: np.ndarray) -> np.ndarray:
        """``apply`` for an array reused across queries (the catalog's reference sample)."""

    def retrieval_queries(self, projected: np.ndarray) -> np.ndarray:
        """Queries that find, among the raw product vectors, the products closest to the
        already projected regions."""

    def pool(self, cosines: np.ndarray) -> np.ndarray:
        """A product's score from its cosines to every region (rows: regions)."""


def pool_regions(cosines: np.ndarray, temperature: float = 0.0) -> np.ndarray:
    """Per column (product), the best cosine over the rows (regions), or with ``temperature``
    > 0 a soft maximum: ``t·log Σ exp(c/t)``, which adds to the best region a bonus for other
    regions nearly as close (at most ``t·log(regions)``)."""
    best = cosines.max(axis=0)
    if temperature <= 0 or len(cosines) == 0:
        return best
    return best + temperature * np.log(np.exp((cosines - best) / temperature).sum(axis=0))
