"""``scenefit experiments report``: per variant, how shoppers reacted to its picks.

The unit is the served match (one list shown once): a match counts as clicked when some
product it showed within the top ``k`` got a click (or anything stronger), as added to cart
or purchased likewise. Matches are what assignment randomises, so their outcomes are the
independent trials the intervals and tests assume (a shopper's repeat visits are not quite
independent; with many shoppers the effect is small).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ._events import COMMITTED, Event
from ._experiments import Experiment
from ._stats import CONFIDENCE, Proportion, compare
from ._store import FeedbackStore

#: What counts as a click: opening the product, or anything that needs it first.
_CLICKS = COMMITTED | {Event.click}
METRICS = {"ctr": _CLICKS, "add_to_cart": {Event.add_to_cart, Event.purchase}, "purchase": {Event.purchase},
           "dismiss": {Event.dismiss}}
ALPHA = 1 - CONFIDENCE  # the test's level, matching the intervals


class Rate(BaseModel):
    successes: int
    rate: float
    low: float = Field(description="Wilson score interval at the report's confidence level")
    high: float


class VariantFigures(BaseModel):
    name: str
    matches: int = Field(description="Result lists served")
    impressions: int = Field(description="Products shown within the top k")
    events: dict[str, int] = Field(description="Events recorded, by kind")
    rates: dict[str, Rate] = Field(description="Share of matches with a click (ctr), add-to-cart, purchase, dismiss")


class Comparison(BaseModel):
    variant: str
    control: str
    metric: str
    diff: float = Field(description="variant − control")
    low: float = Field(description="Interval of the difference at the report's confidence level")
    high: float
    p_value: float = Field(description="Two-sided, pooled two-proportion z-test")
    verdict: str = Field(description='"better" or "worse" (p below 1 − the confidence level), or "no difference shown"')


class ExperimentReport(BaseModel):
    k: int
    since: str | None
    variants: list[VariantFigures]
    comparisons: list[Comparison]


def experiment_report(store: FeedbackStore, experiment: Experiment, *, k: int = 10,
                      since: str | None = None) -> ExperimentReport:
    """Figures of every variant that served matches (the experiment's variants first, in order;
    variants since removed from the file after them), each compared with the control. The
    database counts: nothing is loaded per match."""
    totals = store.variant_totals(k, since)
    counts = store.event_counts(since)
    hits = {metric: store.matches_with(kinds, k, since) for metric, kinds in METRICS.items()}
    names = [v.name for v in experiment.variants if v.name in totals]
    names += sorted(set(totals) - set(names))
    props = {(n, metric): Proportion(hits[metric].get(n, 0), totals[n][0]) for n in names for metric in METRICS}
    figures = []
    for n in names:
        rates = {}
        for metric in METRICS:
            p = props[(n, metric)]
            low, high = p.interval()
            rates[metric] = Rate(successes=p.successes, rate=round(p.rate, 5), low=round(low, 5), high=round(high, 5))
        figures.append(VariantFigures(name=n, matches=totals[n][0], impressions=totals[n][1],
                                      events={e: c for (v, e), c in sorted(counts.items()) if v == n}, rates=rates))
    comparisons = []
    control = experiment.control.name if experiment.control.name in totals else (names[0] if names else None)
    for n in names:
        if n == control:
            continue
        for metric in METRICS:
            d = compare(props[(control, metric)], props[(n, metric)])
            good = d.diff < 0 if metric == "dismiss" else d.diff > 0
            verdict = ("better" if good else "worse") if d.p_value < ALPHA else "no difference shown"
            comparisons.append(Comparison(variant=n, control=control, metric=metric, diff=round(d.diff, 5),
                                          low=round(d.low, 5), high=round(d.high, 5),
                                          p_value=float(f"{d.p_value:.4g}"), verdict=verdict))
    return ExperimentReport(k=k, since=since, variants=figures, comparisons=comparisons)
