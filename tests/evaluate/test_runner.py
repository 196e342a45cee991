import json

from scenefit.evaluate import LabelledScene, MethodOutput, RoomAccuracy, SceneOutcome, run_eval, write_chart


def _scenes(tmp_path, write_image):
    img = write_image(tmp_path / "s.png", (10, 20, 30), size=(64, 64))
    return [
        LabelledScene("s1.png", img, "bedroom", frozenset({"a", "b"})),
        LabelledScene("s2.png", img, "kitchen", frozenset({"c", "gone"})),  # "gone" not indexed
        LabelledScene("s3.png", img, "kitchen", frozenset()),  # nothing to find: room accuracy only
    ]


def test_aggregates_per_method_room_and_confusion(tmp_path, write_image):
    scenes = _scenes(tmp_path, write_image)
    calls = iter([
        MethodOutput(["a", "x"], "bedroom"), MethodOutput(["x", "y"]),
        MethodOutput(["c", "a"], "living room"), MethodOutput(["c"]),
        MethodOutput(["q"], "kitchen"), MethodOutput(["q"]),
    ])
    methods = {"ours": lambda im, sc: next(calls), "base": lambda im, sc: next(calls)}
    r = run_eval(scenes, methods, k=2, known_ids={"a", "b", "c", "x", "y", "q"}, primary="ours")
    assert r.n_scenes == 3 and r.relevant_missing == 1
    assert r.methods["ours"].n == 2  # s3 has no findable product
    assert r.methods["ours"].overall["recall"] == (0.5 + 1.0) / 2
    assert r.methods["base"].overall["recall"] == (0.0 + 1.0) / 2
    assert r.methods["ours"].recall_in("bedroom") == 0.5 and r.methods["ours"].recall_in("attic") == 0.0
    assert r.room_accuracy == RoomAccuracy(round(2 / 3, 4), {"bedroom": 1.0, "kitchen": 0.5}, 3)
    assert r.confusion == {"bedroom": {"bedroom": 1}, "kitchen": {"kitchen": 1, "living room": 1}}
    assert r.scenes[0] == SceneOutcome("s1.png", "bedroom", "bedroom", ["a", "x"], ["a"])
    json.dumps(r.to_dict())  # serialisable as written by --json
    png = write_chart(r, tmp_path / "out" / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_json_keeps_its_keys_and_their_order(tmp_path, write_image):
    """The `scenefit eval --json` file is a contract: typed fields inside, the same JSON out."""
    from scenefit.evaluate import EvalInfo

    scenes = _scenes(tmp_path, write_image)
    r = run_eval(scenes, {"ours": lambda im, sc: MethodOutput(["a", "c"], "kitchen")}, k=2,
                 known_ids={"a", "b", "c"}, primary="ours")
    r.info = EvalInfo(catalog="c.csv", labels="l.jsonl", index="ix", model="m", products=3, regions="crops",
                      seed=0, scenefit="default weights")
    data = json.loads(json.dumps(r.to_dict()))
    assert list(data) == ["k", "n_scenes", "catalog", "labels", "index", "model", "products", "regions", "seed",
                          "scenefit", "relevant_missing_from_index", "methods", "room_accuracy", "confusion",
                          "scenes"]
    assert list(data["methods"]["ours"]) == ["overall", "by_room", "n"]
    assert list(data["methods"]["ours"]["overall"]) == ["recall", "ndcg", "hit_rate", "mrr"]
    assert data["room_accuracy"] == {"overall": round(2 / 3, 4), "by_room": {"bedroom": 0.0, "kitchen": 1.0}, "n": 3}
    assert data["scenes"][1] == {"scene": "s2.png", "true_room_type": "kitchen", "room_type": "kitchen",
                                 "ranked": ["a", "c"], "hits": ["c"]}


def test_the_random_baseline_is_seeded(tmp_path, write_image):
    import numpy as np

    from scenefit.evaluate import random_method

    scenes = _scenes(tmp_path, write_image)
    ids = [str(i) for i in range(50)]
    runs = [[random_method(ids, 5, np.random.default_rng(seed))(None, sc).ranked for sc in scenes]
            for seed in (7, 7, 8)]
    assert runs[0] == runs[1] != runs[2] and all(len(set(r)) == 5 for r in runs[0])
