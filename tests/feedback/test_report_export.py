"""From recorded matches and events: the experiment report and the labels export."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from PIL import Image

from scenefit import ConfigError
from scenefit.evaluate import read_labels
from scenefit.feedback import (Event, Experiment, FeedbackEvent, FeedbackStore, MatchRecord, ShownItem,
                               experiment_report, export_labels)


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(uuid.uuid4().hex, folder=tmp_path)


def _serve(store, variant: str, digest: str = "room", photo: bytes = b"", k: int = 5) -> str:
    match_id = uuid.uuid4().hex
    store.record_match(MatchRecord(match_id=match_id, created_at="2026-12-01T00:00:00+00:00", scene_digest=digest,
                                   variant=variant, k=k, shown=[ShownItem(product_id=f"p{i}", rank=i, score=0.5)
                                                                for i in range(1, k + 1)]), photo or _png((1, 2, 3)))
    return match_id


def _event(store, match_id: str, product: str, event: Event, rank: int) -> None:
    store.add_event(FeedbackEvent(match_id=match_id, product_id=product, event=event, rank=rank,
                                  created_at="2026-12-01T00:00:01+00:00"))


def test_report_counts_matches_with_an_event_within_the_top_k(store):
    experiment = Experiment.model_validate({"variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]})
    for i in range(200):
        m = _serve(store, "a")
        if i % 10 == 0:  # 10 % of a's matches get a click at rank 2
            _event(store, m, "p2", Event.click, 2)
    for i in range(200):
        m = _serve(store, "b")
        if i % 4 == 0:  # 25 % of b's matches
            _event(store, m, "p1", Event.click, 1)
            _event(store, m, "p1", Event.add_to_cart, 1)
        if i % 50 == 0:  # a purchase, but at rank 5: outside k = 3
            _event(store, m, "p5", Event.purchase, 5)
    report = experiment_report(store, experiment, k=3)
    a, b = report.variants
    assert (a.name, a.matches, a.impressions) == ("a", 200, 600)
    assert a.rates["ctr"].successes == 20 and a.rates["ctr"].rate == pytest.approx(0.1)
    assert b.rates["ctr"].successes == 50 and b.rates["add_to_cart"].successes == 50
    assert b.rates["purchase"].successes == 0 and b.events["purchase"] == 4
    assert a.rates["ctr"].low < 0.1 < a.rates["ctr"].high
    ctr = next(c for c in report.comparisons if c.metric == "ctr")
    assert (ctr.variant, ctr.control, ctr.verdict) == ("b", "a", "better") and ctr.p_value < 0.001
    purchase = next(c for c in report.comparisons if c.metric == "purchase")
    assert purchase.verdict == "no difference shown"
    # Counted within the top 5 the purchases appear (4 of b's matches).
    assert experiment_report(store, experiment, k=5).variants[1].rates["purchase"].successes == 4


def test_export_writes_labels_fit_and_eval_read(store, tmp_path):
    red, blue = _png((200, 0, 0)), _png((0, 0, 200))
    m1 = _serve(store, "a", digest="red", photo=red)
    m2 = _serve(store, "a", digest="red", photo=red)  # the same photo again: merged
    m3 = _serve(store, "a", digest="blue", photo=blue)
    _serve(store, "a", digest="grey", photo=_png((9, 9, 9)))  # no events: no line
    _event(store, m1, "p1", Event.click, 1)
    _event(store, m2, "p2", Event.save, 2)
    _event(store, m2, "p3", Event.dismiss, 3)
    _event(store, m3, "p4", Event.click, 4)
    _event(store, m3, "p4", Event.dismiss, 4)
    report = export_labels(store, tmp_path / "out" / "labels.jsonl")
    assert (report.scenes, report.relevant, report.irrelevant, report.matches, report.events) == (2, 2, 2, 4, 5)
    lines = [json.loads(x) for x in report.labels.read_text().splitlines()]
    by_scene = {line["scene"]: line for line in lines}
    assert by_scene["labels-scenes/red.png"]["relevant"] == ["p1", "p2"]
    assert by_scene["labels-scenes/red.png"]["irrelevant"] == ["p3"] and by_scene["labels-scenes/red.png"]["matches"] == 2
    assert by_scene["labels-scenes/blue.png"] == {"scene": "labels-scenes/blue.png", "room_type": None, "relevant": [],
                                                  "irrelevant": ["p4"], "matches": 1, "events": 2}
    scenes = {s.scene: s for s in read_labels(report.labels)}
    assert scenes["labels-scenes/red.png"].path.read_bytes() == red
    assert scenes["labels-scenes/red.png"].irrelevant == frozenset({"p3"})


def test_export_of_one_variant_and_of_nothing(store, tmp_path):
    m = _serve(store, "b")
    _event(store, m, "p1", Event.purchase, 1)
    with pytest.raises(ConfigError, match="no feedback to export"):
        export_labels(store, tmp_path / "l.jsonl", variant="a")
    assert export_labels(store, tmp_path / "l.jsonl", variant="b").relevant == 1
