"""`scenefit eval` on a small subset of the real IKEA dev benchmark (offline encoder)."""

import csv
import json
import random

import pytest

from scenefit.cli import main

IKEA = "benchmarks/ikea-dev"


@pytest.fixture(scope="module")
def subset(request, tmp_path_factory):
    src = request.config.rootpath.parent / "shared" / IKEA
    if not (src / "labels.jsonl").is_file():
        pytest.skip(f"IKEA benchmark not found at {src} (it lives in ../shared, never in the repo)")
    labels = [json.loads(line) for line in (src / "labels.jsonl").read_text().splitlines() if line.strip()]
    scenes = labels[::15][:6]
    rows = list(csv.DictReader((src / "catalog.csv").open(encoding="utf-8")))
    wanted = {r for s in scenes for r in s["relevant"]}
    rng = random.Random(0)
    keep = [r for r in rows if r["id"] in wanted] + rng.sample([r for r in rows if r["id"] not in wanted], 60)
    out = tmp_path_factory.mktemp("ikea")
    with (out / "catalog.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in keep:
            if r["primary_image"]:
                r["primary_image"] = str(src / r["primary_image"])
            w.writerow(r)
    with (out / "labels.jsonl").open("w") as fh:
        for s in scenes:
            fh.write(json.dumps({**s, "scene": str(src / s["scene"])}) + "\n")
    return out, scenes


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
