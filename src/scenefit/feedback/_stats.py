"""Proportions with confidence intervals (at CONFIDENCE), and the test of a difference between two of them."""

from __future__ import annotations

import math
from statistics import NormalDist
from dataclasses import dataclass

#: The two-sided confidence level of every interval the report gives.
CONFIDENCE = 0.95
Z95 = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # the standard normal quantile of that level


@dataclass(frozen=True)
class Proportion:
    successes: int
    n: int

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    def interval(self) -> tuple[float, float]:
        """The Wilson score interval: unlike rate ± 1.96·se it stays inside 0..1 and keeps its
        coverage for the small rates (purchases) and small counts of a young experiment."""
        if not self.n:
            return 0.0, 1.0
        p, n, z2 = self.rate, self.n, Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Difference:
    diff: float  # b − a
    low: float  # the difference's interval at CONFIDENCE
    high: float
    p_value: float  # two-sided, H0: equal rates


def compare(a: Proportion, b: Proportion) -> Difference:
    """b − a with its interval at CONFIDENCE (Newcombe's, from the two Wilson intervals) and the
    two-sided p-value of the pooled two-proportion z-test."""
    diff = b.rate - a.rate
    (la, ha), (lb, hb) = a.interval(), b.interval()
    low = diff - math.sqrt((b.rate - lb) ** 2 + (ha - a.rate) ** 2)
    high = diff + math.sqrt((hb - b.rate) ** 2 + (a.rate - la) ** 2)
    if not a.n or not b.n:
        return Difference(diff, low, high, 1.0)
    pooled = (a.successes + b.successes) / (a.n + b.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    p = math.erfc(abs(diff) / se / math.sqrt(2)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Difference(diff, low, high, p)
