"""Experiments declared in the index folder; sticky, proportional assignment."""

from __future__ import annotations

import json

import pytest

from scenefit import ConfigError
from scenefit.feedback import DEFAULT_VARIANT, EXPERIMENTS_FILE, Experiment, Variant


def _write(folder, payload) -> None:
    (folder / EXPERIMENTS_FILE).write_text(json.dumps(payload))


def test_without_a_file_there_is_one_default_variant(tmp_path):
    experiment = Experiment.load(tmp_path)
    assert [v.name for v in experiment.variants] == [DEFAULT_VARIANT]
    assert experiment.assign("anyone").fit == "."


def test_a_session_always_gets_the_same_variant_and_shares_hold(tmp_path):
    _write(tmp_path, {"variants": [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.3, "fit": "fits/b"}]})
    experiment = Experiment.load(tmp_path)
    assert experiment.control.name == "a" and experiment.variant("b").fit == "fits/b"
    picks = [experiment.assign(f"user-{i}").name for i in range(4000)]
    assert picks == [experiment.assign(f"user-{i}").name for i in range(4000)]  # sticky
    assert abs(picks.count("b") / 4000 - 0.3) < 0.03
    reshuffled = Experiment(salt="other", variants=experiment.variants)
    assert [reshuffled.assign(f"user-{i}").name for i in range(200)] != picks[:200]


def test_the_stored_subject_is_a_keyed_hash_not_the_id():
    experiment = Experiment.default()
    key = experiment.subject_key("alice@example.com")
    assert "alice" not in key and len(key) == 32 and key == experiment.subject_key("alice@example.com")
    assert Experiment(salt="x", variants=experiment.variants).subject_key("alice@example.com") != key


@pytest.mark.parametrize("payload, message", [
    ({"variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}]}, "add up to 1"),
    ({"variants": [{"name": "a", "share": 0.5}, {"name": "a", "share": 0.5}]}, "distinct"),
    ({"variants": [{"name": "Bad Name", "share": 1}]}, "variants.0.name"),
    ({"variants": [{"name": "a", "share": 1, "fit": "../elsewhere"}]}, "inside the index folder"),
    ({"variants": []}, "variants"),
])
def test_a_broken_file_says_where(tmp_path, payload, message):
    _write(tmp_path, payload)
    with pytest.raises(ConfigError, match=message):
        Experiment.load(tmp_path)


def test_a_variant_may_override_the_ranking(tmp_path):
    _write(tmp_path, {"variants": [{"name": "a", "share": 1, "rank": {"diversity": 0.5}}]})
    assert Experiment.load(tmp_path).control.rank.diversity == 0.5
    assert Experiment.load(tmp_path).save(tmp_path).is_file()
    assert isinstance(Experiment.load(tmp_path).control, Variant)
