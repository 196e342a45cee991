"""`scenefit bench --smoke`: the whole suite runs from a clean clone and writes its report.

Checks the suite's plumbing and the figures' internal consistency, never a speed: timings
are for `scenefit bench` on a quiet machine, not for the test suite.
"""

from __future__ import annotations

import json

import pytest

from scenefit.bench import BenchConfig, run_suite
from scenefit.bench._data import SyntheticCatalog, median_nn_cosine

# The module fixture runs the whole smoke suite, charged to the first test's timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def report(tmp_path_factory, ray_cluster):  # the scaleout section runs on the session's Ray cluster
    tmp = tmp_path_factory.mktemp("bench")
    cfg = BenchConfig.smoke_config(out=tmp / "out", work=tmp / "work")
    result = run_suite(cfg, log=lambda m: None)
    return result, tmp / "out"


def test_report_files_and_machine(report):
    result, out = report
    assert json.loads((out / "bench-smoke.json").read_text())["smoke"] is True
    table = (out / "bench-smoke.md").read_text()
    assert "## Search alone" in table and "scoring loop" in table and "Cold start" in table
    assert result["machine"]["cpus"] >= 1 and result["machine"]["torch"]


def test_search_rows_are_consistent(report):
    rows = [r for r in report[0]["search"] if "skipped" not in r]
    flat = next(r for r in rows if r["index"] == "flat")
    assert flat["recall_at_10"] == 1.0  # exact is its own ground truth
    assert {r["index"].split("-")[0].rstrip("0123456789") for r in rows} >= {"flat", "hnsw", "ivf"}
    for r in rows:
        assert 0 <= r["recall_at_10"] <= 1 and r["latency"]["median_ms"] <= r["latency"]["p95_ms"]
    sq8 = next(r for r in rows if r["index"].endswith("sq8"))
    assert sq8["bytes_per_vector"] < flat["bytes_per_vector"] / 2


def test_match_memory_ingest_sections(report):
    result = report[0]
    match = result["match"]
    assert match["products"] == 3000 and match["photos"] >= 1
    assert match["loop_baseline"]["median_ms"] > 0 and match["speedup_vs_loop"] > 0
    assert set(match["stages"]) == {"decode", "encode", "analyze", "filter", "search", "adapter", "appearance", "rerank"}
    assert match["regions"] == "dense" and match["runtime"] == "onnx"  # the defaults
    # the floor is the network alone on the same photos: below the whole match
    assert 0 < match["network_floor"]["median_ms"] < match["total"]["median_ms"] and match["vs_floor"] > 1
    assert {m["runtime"] for m in result["memory"]} == {"onnx", "torch"}
    assert all(m["peak_rss_mb"] > 50 and m["products"] == 3000 for m in result["memory"])
    for m in result["memory"]:  # where the memory went, step by step, within the peak
        assert list(m["rss_added_mb"]) == ["imports", "index", "models", "matches"]
        assert m["rss_added_mb"]["imports"] > 0 and m["rss_added_mb"]["models"] > 0
        assert sum(m["rss_added_mb"].values()) <= m["peak_rss_mb"]
    assert result["cold_start"]["products"] == 3000
    for label in ("text_only", "with_local_images"):
        assert result["ingest"][label]["products_per_s_median"] > 0


def test_throughput_section(report):
    rows = report[0]["throughput"]
    assert [r["workers"] for r in rows] == [1]
    for row in rows:
        for kind in ("distinct", "repeated"):
            assert row[kind]["matches"] == 4 and row[kind]["failed"] == 0 and row[kind]["matches_per_s"] > 0
        assert row["repeated"]["cache_hit_rate"] == 1.0  # every repeated photo was cached by the warm-up
    assert "## Throughput" in (report[1] / "bench-smoke.md").read_text()


def test_scaleout_section(report):
    so = report[0]["scaleout"]
    assert so["ray_ingest"]["ray"]["products_per_s_median"] > 0 and so["ray_ingest"]["local"]["products_per_s_median"] > 0
    search = so["milvus_search"]
    # Both are exact inner-product search over the same vectors.
    assert search["faiss_flat"]["recall_at_10"] == 1.0 and search["milvus_lite_flat"]["recall_at_10"] >= 0.99


def test_synthetic_vectors_keep_the_real_neighbourhood_scale(report):
    data = report[0]["data"]
    assert 0 < data["noise_scale"]["text"] < 4
    # the calibration's promise, checked independently on a fresh sample
    from scenefit.bench._data import RealVectors
    import numpy as np

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((50, 16)).astype(np.float32)
    real = centres[rng.integers(0, 50, 800)] + 0.3 * rng.standard_normal((800, 16)).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    synth = SyntheticCatalog(RealVectors(real, None, [], "test"))
    same_size = synth.vectors("text", 800)
    assert abs(median_nn_cosine(same_size) - median_nn_cosine(real)) < 0.03
    assert np.allclose(np.linalg.norm(same_size, axis=1), 1, atol=1e-5)
