"""The offline encoder under ONNX Runtime: same vectors as PyTorch, exported once, cached."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scenefit import ConfigError, ModelError
from scenefit.embed import EncoderConfig, build_encoder
from scenefit.embed._offline import OfflineEncoder
from scenefit.embed._onnx import EXPORT_VERSION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(living_room):
    return OfflineEncoder(runtime="torch"), OfflineEncoder(runtime="onnx")


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

    pair[1].encode_images([Image.new("RGB", (64, 64), "blue")])  # exported on first use
    folder = os.path.join(os.environ["SCENEFIT_CACHE_DIR"], "onnx")
    files = sorted(os.listdir(folder))
    assert any(f.startswith("efficientnet-lite0") for f in files) and any(f.startswith("all-MiniLM") for f in files)
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "onnx").mkdir()
    bad = f"efficientnet-lite0-v{EXPORT_VERSION}.onnx"  # the image network encode_images runs
    assert bad in files
    (tmp_path / "onnx" / bad).write_bytes(b"not a model")
    fresh = OfflineEncoder(runtime="onnx")
    vec = fresh.encode_images([Image.new("RGB", (64, 64), "red")])
    assert vec.shape == (1, 384) and (tmp_path / "onnx" / bad).stat().st_size > 1_000_000


def test_runtime_is_a_config_choice():
    encoder, resolved, _ = build_encoder(EncoderConfig(backend="offline", runtime="onnx"))
    assert encoder.runtime == "onnx" and resolved.runtime == "onnx"
    with pytest.raises(ConfigError, match="runtime"):
        OfflineEncoder(runtime="tensorrt")


def test_missing_onnxruntime_gives_the_install_hint(block_import):
    block_import("onnxruntime")
    with pytest.raises(ModelError, match=r"pip install onnxruntime"):
        OfflineEncoder(runtime="onnx").encode_images([Image.new("RGB", (64, 64))])


def test_engine_matches_alike_under_either_runtime(tmp_path_factory, living_room):
    from scenefit.engine import Engine

    from pathlib import Path

    catalog = Path(__file__).resolve().parents[2] / "examples" / "product-catalog.csv"
    index = tmp_path_factory.mktemp("onnx") / "ix"
    Engine(index, encoder=EncoderConfig(backend="offline", runtime="torch"), log=lambda m: None).ingest(catalog)
    a = Engine(index, log=lambda m: None, runtime="torch").match(living_room, k=10)
    b = Engine(index, log=lambda m: None).match(living_room, k=10)  # onnx: the default
    assert len({r.id for r in a.recommendations} & {r.id for r in b.recommendations}) >= 9
    assert a.scene.room_type.keys() == b.scene.room_type.keys()


@pytest.fixture(scope="module")
def int8():
    return OfflineEncoder(runtime="onnx-int8")


def test_int8_scene_views_approximate_fp32(pair, int8, living_room):
    _, onnx_enc = pair
    photos = _photos(living_room)
    vecs, looks = onnx_enc.encode_images_and_appearance(photos)
    qvecs, qlooks = int8.encode_images_and_appearance(photos, scene=True)
    cos = (looks * qlooks).sum(axis=1)
    # The int8 network is really used (not the fp32 one) and stays close to it.
    assert cos.max() < 0.9999 and cos.min() >= 0.9 and np.median(cos) >= 0.97
    assert np.all((vecs * qvecs).sum(axis=1) >= 0.8)


def test_int8_leaves_product_vectors_and_the_model_id_alone(pair, int8, living_room):
    _, onnx_enc = pair
    photos = _photos(living_room)
    a, la = onnx_enc.encode_images_and_appearance(photos)
    b, lb = int8.encode_images_and_appearance(photos)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(la, lb, atol=1e-6)
    assert int8.model_id == onnx_enc.model_id  # any index can be served with it


def test_int8_model_is_quantised_and_cached(int8, living_room):
    import os

    import onnx

    int8.encode_images_and_appearance(_photos(living_room)[:1], scene=True)
    path = os.path.join(os.environ["SCENEFIT_CACHE_DIR"], "onnx", f"efficientnet-lite0-int8r7-v{EXPORT_VERSION}.onnx")
    graph = onnx.load(path).graph
    ops = {n.op_type for n in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert any(init.data_type == onnx.TensorProto.INT8 for init in graph.initializer)
    assert os.path.getsize(path) < 0.5 * os.path.getsize(path.replace("-int8r7", ""))


def test_engine_serves_an_index_with_the_int8_runtime(tmp_path_factory, living_room):
    from pathlib import Path

    from scenefit.engine import Engine

    catalog = Path(__file__).resolve().parents[2] / "examples" / "product-catalog.csv"
    index = tmp_path_factory.mktemp("int8") / "ix"
    Engine(index, encoder=EncoderConfig(backend="offline", runtime="onnx"), log=lambda m: None).ingest(catalog)
    a = Engine(index, log=lambda m: None, runtime="onnx").match(living_room, k=10)
    b = Engine(index, log=lambda m: None, runtime="onnx-int8").match(living_room, k=10)
    assert len(b.recommendations) == 10
    assert len({r.id for r in a.recommendations} & {r.id for r in b.recommendations}) >= 5
    assert max(b.scene.room_type, key=b.scene.room_type.get) == max(a.scene.room_type, key=a.scene.room_type.get)


def test_int8_scene_vectors_have_their_own_id_for_the_scene_cache():
    fp32, int8 = OfflineEncoder(runtime="onnx"), OfflineEncoder(runtime="onnx-int8")
    assert fp32.scene_model_id == fp32.model_id
    assert int8.scene_model_id != fp32.scene_model_id and int8.model_id == fp32.model_id
