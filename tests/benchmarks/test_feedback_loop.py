"""The feedback-loop simulator, smoke-run on a few IKEA rooms: serve over HTTP, events, export,
fit into a variant, A/B report. Its figures are docs/feedback.md's; here it must only run
through and report every stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scenefit.embed import EncoderConfig
from scenefit.engine import Engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.server
def test_the_simulator_runs_the_loop_through(tmp_path, ikea_subset_writer):
    ikea_subset_writer(tmp_path, every=9, scenes=6, others=40, seed=0)
    Engine(tmp_path / "index", encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(
        tmp_path / "catalog.csv")
    out = tmp_path / "loop.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "feedback_loop.py"), "--index", str(tmp_path / "index"),
         "--data", str(tmp_path), "--folds", "2", "--rounds", "1", "--sessions", "2", "--ab-sessions", "3",
         "--passed-over", "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["summary"]) == {"label-free", "hand-labelled", "feedback-r1"}
    for fold in result["folds"]:
        assert fold["rounds"][0]["passed_over"] == 0  # a handful of matches: too few to estimate position bias
        assert fold["rounds"][0]["events"] > 0 and fold["rounds"][0]["served"] == {"label-free": 2 * fold["train_rooms"]}
        variants = {v["name"]: v for v in fold["ab_report"]["variants"]}
        assert sum(v["matches"] for v in variants.values()) == 3 * fold["test_rooms"]
        assert set(variants) <= {"label-free", "feedback-r1"}
    assert "Recall@10 on held-out rooms" in proc.stdout
