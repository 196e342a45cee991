"""Position bias: how likely shoppers are to look at each rank, estimated from the log, and
which shown products they passed over.

A product nobody engaged with says little on its own: the shopper may never have scrolled to
it. How much it says depends on its rank. Any shopper event on a product (a click, a save, a
dismiss, …) means it was looked at, so the share of impressions at rank r that drew an event,
divided by the same share at rank 1, estimates how often rank r is looked at relative to the
top (its examination propensity). Relevance also falls with rank, so this estimate falls
faster than the true propensity: it errs on the side of calling fewer products passed over.

A product shown for a scene photo, with no event on it in any match of that photo, was passed
over once the shoppers are expected to have looked at it at least once in all: the sum of the
propensities of the ranks it was shown at reaches :data:`MIN_EXPECTED_LOOKS`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from ._events import CURATOR_EVENTS, FeedbackEvent, MatchRecord

#: Interactions at rank 1 needed before propensities are estimated at all: every other rank's
#: estimate is divided by this rate, so its noise must be small (docs/feedback.md).
MIN_TOP_INTERACTIONS = 25
#: Expected looks (summed propensities) at which a product nobody engaged with counts as
#: passed over: the shoppers looked at it, by expectation, at least once and left it.
MIN_EXPECTED_LOOKS = 1.0


def propensities(matches: Iterable[MatchRecord], events: Iterable[FeedbackEvent]) -> list[float]:
    """Examination propensity per rank (index 0: rank 1, always 1.0), non-increasing; empty
    when the log holds too few interactions at rank 1 to estimate them."""
    impressions: dict[int, int] = defaultdict(int)
    for m in matches:
        for item in m.shown:
            impressions[item.rank] += 1
    engaged = {(e.match_id, e.rank) for e in events if e.event not in CURATOR_EVENTS}
    interactions: dict[int, int] = defaultdict(int)
    for _, rank in engaged:
        interactions[rank] += 1
    if interactions[1] < MIN_TOP_INTERACTIONS:  # events are on shown picks: rank 1 was shown that often
        return []
    top = interactions[1] / impressions[1]
    out: list[float] = []
    for rank in range(1, max(impressions) + 1):
        rate = interactions[rank] / impressions[rank] if impressions[rank] else 0.0
        # never above a higher rank's: a noisy bump lower down is not a reason to look there more
        out.append(min(rate / top, out[-1] if out else 1.0))
    return out


def passed_over_products(matches: Iterable[MatchRecord], engaged: set[tuple[str, str]],
                propensity: list[float]) -> dict[str, set[str]]:
    """Per scene photo, the products shown in its matches that nobody engaged with although
    shoppers were expected to look at them at least :data:`MIN_EXPECTED_LOOKS` times.
    ``engaged``: (photo digest, product id) pairs with any event."""
    if not propensity:
        return {}
    looks: dict[tuple[str, str], float] = defaultdict(float)
    for m in matches:
        for item in m.shown:
            if item.rank <= len(propensity):
                looks[(m.scene_digest, item.product_id)] += propensity[item.rank - 1]
    out: dict[str, set[str]] = defaultdict(set)
    for (digest, product), expected in looks.items():
        if expected >= MIN_EXPECTED_LOOKS and (digest, product) not in engaged:
            out[digest].add(product)
    return dict(out)
