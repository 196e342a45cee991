"""Position bias: propensities estimated from the log, and which products were passed over."""

from __future__ import annotations

import json
import uuid

from scenefit.feedback import Event, FeedbackEvent, FeedbackStore, MatchRecord, ShownItem, export_labels
from scenefit.feedback._propensity import MIN_TOP_INTERACTIONS, passed_over_products, propensities


def _match(digest: str = "room", products=("p1", "p2", "p3", "p4")) -> MatchRecord:
    return MatchRecord(match_id=uuid.uuid4().hex, created_at="2026-12-01T00:00:00+00:00", scene_digest=digest,
                       variant="a", k=len(products),
                       shown=[ShownItem(product_id=p, rank=r, score=0.5) for r, p in enumerate(products, start=1)])


def _event(match: MatchRecord, rank: int, event: Event = Event.click) -> FeedbackEvent:
    return FeedbackEvent(match_id=match.match_id, product_id=match.shown[rank - 1].product_id, event=event, rank=rank,
                         created_at="2026-12-01T00:00:01+00:00")


def _log(rates: list[float], n: int = 100):
    """``n`` matches of four picks; rank r draws an event in ``rates[r-1]`` of them."""
    matches = [_match() for _ in range(n)]
    events = [_event(m, r) for r, rate in enumerate(rates, start=1) for m in matches[:round(rate * n)]]
    return matches, events


def test_propensities_are_rates_relative_to_the_top_and_never_rise_with_rank():
    matches, events = _log([0.5, 0.25, 0.3, 0.05])
    # a second event on the same pick is the same look; a curator's judgement is not a look at all
    events += [_event(matches[0], 1, Event.save), _event(matches[-1], 4, Event.irrelevant)]
    assert propensities(matches, events) == [1.0, 0.5, 0.5, 0.1]


def test_no_propensities_from_too_few_interactions_at_the_top():
    matches, events = _log([(MIN_TOP_INTERACTIONS - 1) / 100, 0.2])
    assert propensities(matches, events) == []
    assert passed_over_products(matches, set(), []) == {}


def test_passed_over_needs_one_expected_look_and_no_event_at_all():
    a, b = _match("room"), _match("room", ("p3", "p2", "p1", "p4"))  # p1 and p3 swap places
    other = _match("other")
    propensity = [1.0, 0.5, 0.3, 0.2]
    engaged = {("room", "p2")}
    left = passed_over_products([a, b, other], engaged, propensity)
    # p1 and p3: 1.0 + 0.3 looks; p2 was engaged with; p4: 0.2 + 0.2 looks, too few
    assert left == {"room": {"p1", "p3"}, "other": {"p1"}}


def test_export_labels_passed_over_picks_as_irrelevant_only_where_asked(tmp_path):
    store = FeedbackStore(uuid.uuid4().hex, folder=tmp_path)
    for i in range(30):  # shoppers take rank 1 of room a, rank 2 of room b; a's rank 3 is dismissed now and then
        a, b = _match("a", ("p1", "p2", "p3", "p4")), _match("b", ("p5", "p6", "p7", "p8"))
        store.record_match(a, b"photo a")
        store.record_match(b, b"photo b")
        store.add_event(_event(a, 1))
        store.add_event(_event(b, 2))
        if i % 3 == 0:
            store.add_event(_event(a, 3, Event.dismiss))
    store.record_match(_match("quiet"), b"photo c")  # no events: no line, nothing inferred
    # propensities: 1, 1, 1/3, 0 (nobody ever touched rank 4, so nothing says it is looked at)
    with_passed = export_labels(store, tmp_path / "a.jsonl", passed_over=True)
    without = export_labels(store, tmp_path / "b.jsonl")  # off by default
    lines = {x["scene"]: x for x in map(json.loads, with_passed.labels.read_text().splitlines())}
    assert with_passed.scenes == without.scenes == 2
    assert lines["a-scenes/a.img"]["relevant"] == ["p1"] and lines["a-scenes/a.img"]["irrelevant"] == ["p2", "p3"]
    assert lines["a-scenes/b.img"]["relevant"] == ["p6"] and lines["a-scenes/b.img"]["irrelevant"] == ["p5", "p7"]
    assert with_passed.passed_over == 3 and with_passed.irrelevant == 4
    assert without.passed_over == 0 and without.irrelevant == 1
