import json

from scenefit.evaluate import LabelledScene, MethodOutput, run_eval, write_chart


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
    assert r.methods["ours"]["n"] == 2  # s3 has no findable product
    assert r.methods["ours"]["overall"]["recall"] == (0.5 + 1.0) / 2
    assert r.methods["base"]["overall"]["recall"] == (0.0 + 1.0) / 2
    assert r.methods["ours"]["by_room"]["bedroom"]["recall"] == 0.5
    assert r.room_accuracy == {"overall": round(2 / 3, 4), "by_room": {"bedroom": 1.0, "kitchen": 0.5}, "n": 3}
    assert r.confusion == {"bedroom": {"bedroom": 1}, "kitchen": {"kitchen": 1, "living room": 1}}
    assert r.scenes[0] == {"scene": "s1.png", "true_room_type": "bedroom", "room_type": "bedroom",
                           "ranked": ["a", "x"], "hits": ["a"]}
    json.dumps(r.to_dict())  # serialisable as written by --json
    png = write_chart(r, tmp_path / "out" / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
