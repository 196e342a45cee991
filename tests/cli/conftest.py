"""A tiny labelled benchmark the fit, eval and feedback commands run on (fake colour encoder)."""

import json

import pytest


@pytest.fixture
def colour_benchmark(tmp_path, monkeypatch, appearance_encoder, write_image):
    """Four colours; each scene shows one colour and its two products are that colour."""
    import scenefit.engine as engine_mod

    monkeypatch.setattr(engine_mod, "build_encoder", lambda c: (
        appearance_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    colours = {"r": (200, 30, 30), "g": (30, 160, 60), "b": (30, 30, 200), "y": (220, 200, 40)}
    rows = ["id,sku_id,description,primary_image"]
    for name, rgb in colours.items():
        write_image(tmp_path / f"{name}.png", rgb)
        rows += [f"{name}{i},s,{word} {name.upper()} THING,{name}.png" for i, word in enumerate(("VASE", "BOWL"))]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    labels = []
    for n, (name, rgb) in enumerate(list(colours.items()) * 2):
        write_image(tmp_path / f"scene{n}.png", rgb, size=(160, 160))
        room = "kitchen" if name in "rg" else "bedroom"
        labels.append(json.dumps({"scene": f"scene{n}.png", "room_type": room, "relevant": [f"{name}0", f"{name}1"]}))
    (tmp_path / "labels.jsonl").write_text("\n".join(labels) + "\n")
    return tmp_path
