"""The offline encoder under ONNX Runtime: same vectors as PyTorch, exported once, cached."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scenefit import ModelError
from scenefit.embed import EncoderConfig, build_encoder
from scenefit.embed._offline import OfflineEncoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(living_room):
    return OfflineEncoder(), OfflineEncoder(runtime="onnx")


def _photos(living_room):
    photo = Image.open(living_room).convert("RGB")
    w, h = photo.size
    return [photo, photo.crop((0, 0, w // 2, h // 2)), photo.crop((w // 3, h // 3, w, h)).rotate(7)]


def test_images_match_pytorch(pair, living_room):
    torch_enc, onnx_enc = pair
    photos = _photos(living_room)
    a, la = torch_enc.encode_images_and_appearance(photos)
    b, lb = onnx_enc.encode_images_and_appearance(photos)
    assert np.all((a * b).sum(axis=1) >= 0.999) and np.all((la * lb).sum(axis=1) >= 0.999)
    assert onnx_enc.model_id == torch_enc.model_id  # same vectors: same index


def test_texts_match_pytorch(pair):
    torch_enc, onnx_enc = pair
    texts = ["8X7X3 RSN TRI GEO ELEPHANT 2/A BLK/WHT", "a cosy reading corner", "gaming setup",
             "GOLD HEXAGON MIRROR " * 40]  # long: truncated the same way
    assert np.all((torch_enc.encode_texts(texts) * onnx_enc.encode_texts(texts)).sum(axis=1) >= 0.999)


def test_export_is_cached_and_rebuilt_when_damaged(pair, tmp_path, monkeypatch):
    import os

    folder = os.path.join(os.environ["SCENEFIT_CACHE_DIR"], "onnx")
    files = sorted(os.listdir(folder))
    assert any(f.startswith("efficientnet-lite0") for f in files) and any(f.startswith("all-MiniLM") for f in files)
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "onnx").mkdir()
    bad = next(p for p in files if p.startswith("efficientnet"))
    (tmp_path / "onnx" / bad).write_bytes(b"not a model")
    fresh = OfflineEncoder(runtime="onnx")
    vec = fresh.encode_images([Image.new("RGB", (64, 64), "red")])
    assert vec.shape == (1, 384) and (tmp_path / "onnx" / bad).stat().st_size > 1_000_000


def test_runtime_is_a_config_choice():
    encoder, resolved, _ = build_encoder(EncoderConfig(backend="offline", runtime="onnx"))
    assert encoder.runtime == "onnx" and resolved.runtime == "onnx"
    with pytest.raises(ModelError, match="runtime"):
        OfflineEncoder(runtime="tensorrt")


def test_missing_onnxruntime_gives_the_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ort(name, *a, **kw):
        if name == "onnxruntime":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_ort)
    with pytest.raises(ModelError, match=r"scenefit\[onnx\]"):
        OfflineEncoder(runtime="onnx").encode_images([Image.new("RGB", (64, 64))])


def test_engine_matches_alike_under_either_runtime(tmp_path_factory, living_room):
    from scenefit.engine import Engine

    from pathlib import Path

    catalog = Path(__file__).resolve().parents[2] / "examples" / "product-catalog.csv"
    index = tmp_path_factory.mktemp("onnx") / "ix"
    Engine(index, encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(catalog)
    a = Engine(index, log=lambda m: None).match(living_room, k=10)
    b = Engine(index, log=lambda m: None, runtime="onnx").match(living_room, k=10)
    assert len({r.id for r in a.recommendations} & {r.id for r in b.recommendations}) >= 9
    assert a.scene.room_type.keys() == b.scene.room_type.keys()
