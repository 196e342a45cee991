"""`scenefit eval` on a small subset of the real IKEA dev benchmark (offline encoder)."""

import json

import pytest

from scenefit.cli import main



@pytest.fixture(scope="module")
def subset(tmp_path_factory, ikea_subset_writer):
    out = tmp_path_factory.mktemp("ikea")
    return out, ikea_subset_writer(out, every=15, scenes=6, others=60, seed=0)


def test_eval_reports_all_figures_and_baselines(subset, capsys):
    out, scenes = subset
    code = main(["eval", "--catalog", str(out / "catalog.csv"), "--labels", str(out / "labels.jsonl"),
                 "--index", str(out / "ix"), "--encoder", "offline", "--json", str(out / "r" / "eval.json")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "Ranking @10" in stdout and "Room-type accuracy" in stdout
    data = json.loads((out / "r" / "eval.json").read_text())
    assert set(data["methods"]) == {"scenefit", "cosine", "random"}
    for figures in data["methods"].values():
        assert set(figures["overall"]) == {"recall", "ndcg", "hit_rate", "mrr"}
        assert all(0.0 <= v <= 1.0 for v in figures["overall"].values())
    assert data["n_scenes"] == len(scenes) and data["k"] == 10
    assert [s["scene"] for s in data["scenes"]] == _written(out)
    assert all(len(s["ranked"]) == 10 and s["room_type"] for s in data["scenes"])
    assert 0.0 <= data["room_accuracy"]["overall"] <= 1.0
    assert sum(sum(r.values()) for r in data["confusion"].values()) == len(scenes)
    assert (out / "r" / "eval.png").read_bytes()[:4] == b"\x89PNG"


def _written(out):
    return [json.loads(line)["scene"] for line in (out / "labels.jsonl").read_text().splitlines()]


def test_fitted_adapter_is_used_by_match_on_real_photos(subset, capsys):
    """In-sample on purpose: after `fit` the ranking of the labelled rooms must move towards
    their products, which shows the saved adapter is loaded and applied (held-out figures come
    from `eval --cv`, docs/quality.md)."""
    out, _ = subset
    common = ["--catalog", str(out / "catalog.csv"), "--labels", str(out / "labels.jsonl"), "--index", str(out / "ix")]
    recall = {}
    for flag in ("--no-adapt", "--adapt"):
        assert main(["fit", *common, "--encoder", "offline", flag]) == 0, capsys.readouterr().err
        assert (out / "ix" / "appearance-adapter.npz").exists() == (flag == "--adapt")
        assert main(["eval", *common, "--json", str(out / "fit" / "eval.json")]) == 0
        capsys.readouterr()
        data = json.loads((out / "fit" / "eval.json").read_text())
        assert data["scenefit"].startswith("fitted on these same labels")
        recall[flag] = data["methods"]["scenefit"]["overall"]["ndcg"]
    assert recall["--adapt"] > recall["--no-adapt"], recall
