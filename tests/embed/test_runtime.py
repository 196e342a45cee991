"""Runtime: declared once, parsed once; the offline encoder's networks chosen at construction.

No weights are loaded here: the networks are swapped for a recording fake or only built.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from scenefit._errors import ConfigError
from scenefit.embed import DenseAppearanceEncoder, EncoderCapabilities, EncoderConfig, Runtime
from scenefit.embed._networks import networks_for
from scenefit.embed._offline import OfflineEncoder
from scenefit.embed._onnx import OnnxNetworks
from scenefit.embed._torch_nets import TorchNetworks


def test_the_choices_and_their_spelling():
    assert [r.value for r in Runtime] == ["torch", "onnx", "onnx-int8"]
    assert Runtime.parse("onnx-int8") is Runtime.ONNX_INT8 and Runtime.parse(Runtime.ONNX) is Runtime.ONNX
    with pytest.raises(ConfigError, match=r"^--runtime must be one of torch, onnx, onnx-int8, not 'tensorrt'$"):
        Runtime.parse("tensorrt", what="--runtime")


@pytest.mark.parametrize("runtime, kind, int8", [("torch", TorchNetworks, None), ("onnx", OnnxNetworks, False),
                                                 ("onnx-int8", OnnxNetworks, True)])
def test_networks_are_chosen_at_construction(runtime, kind, int8):
    enc = OfflineEncoder(runtime=runtime)
    assert type(enc.networks) is kind and enc.runtime is Runtime(runtime)
    if int8 is not None:
        assert enc.networks.int8_scenes is int8
    assert type(networks_for(runtime)) is kind


def test_an_unknown_runtime_is_a_config_error_everywhere():
    with pytest.raises(ConfigError, match="tensorrt"):
        OfflineEncoder(runtime="tensorrt")
    with pytest.raises(ConfigError, match="tensorrt"):
        networks_for("tensorrt")
    from scenefit.engine import Engine

    with pytest.raises(ConfigError, match="runtime must be one of torch, onnx, onnx-int8"):
        Engine("unused-index-folder", runtime="tensorrt")


def test_the_config_keeps_runtime_as_its_string():
    dumped = EncoderConfig(backend="offline", runtime="onnx").model_dump()
    assert dumped["runtime"] == "onnx" and type(dumped["runtime"]) is str
    assert EncoderConfig(runtime=Runtime.ONNX) == EncoderConfig(runtime="onnx")
    assert json.loads(EncoderConfig().model_dump_json())["runtime"] == "onnx"


def test_onnx_is_the_default_runtime():
    assert EncoderConfig().runtime == Runtime.ONNX
    assert isinstance(OfflineEncoder().networks, OnnxNetworks)


def _loader(runtime=None):
    from scenefit.embed._loader import EncoderLoader

    built = []

    def build(config):
        built.append(config)
        return object(), config, "built"

    return EncoderLoader(build, runtime=runtime, log=lambda m: None), built


@pytest.mark.parametrize("recorded, asked, runs", [
    ("torch", None, "onnx"),  # an index built under torch is served without torch
    ("onnx", None, "onnx"),
    ("onnx-int8", None, "onnx-int8"),  # int8 scenes stay what the index was built for
    ("onnx", Runtime.TORCH, "torch"),  # torch only when asked for
    ("onnx-int8", Runtime.ONNX, "onnx"),
])
def test_the_recorded_runtime_and_the_asked_one(recorded, asked, runs):
    loader, built = _loader(asked)
    loader.load_recorded(EncoderConfig(backend="offline", runtime=recorded).model_dump())
    assert [c.runtime for c in built] == [runs]


def test_the_onnx_runtime_does_not_import_torch():
    code = ("import sys; from scenefit.embed._offline import OfflineEncoder; "
            "OfflineEncoder(runtime='onnx'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class RecordingNetworks:
    """Networks that answer from the pixels' mean, recording how they were called."""

    def __init__(self, suffix=""):
        self.scene_id_suffix = suffix
        self.calls = []

    def encode_texts(self, texts, batch_size):
        self.calls.append(("texts", len(texts), batch_size))
        out = np.zeros((len(texts), 384), np.float32)
        out[:, 0] = 1
        return out

    def classify(self, batch, temperature, *, scene=False):
        self.calls.append(("classify", len(batch), scene))
        logits = np.zeros((len(batch), 1000), np.float32)
        logits[:, 7] = 5.0
        from scipy.special import softmax

        return softmax(logits / temperature, axis=-1), np.ones((len(batch), 1600), np.float32)

    def scene_maps(self, pixels):
        self.calls.append(("scene_maps", pixels.shape))
        h, w = pixels.shape[2] // 32, pixels.shape[3] // 32
        stats = np.ones((1600, h, w), np.float32)
        stats[:, :, : w // 2] = 3  # the left half differs
        return stats, np.arange(1280 * h * w, dtype=np.float32).reshape(1280, h, w)

    def classify_pooled(self, head_means, temperature):
        self.calls.append(("classify_pooled", head_means.shape))
        self.head_means = head_means
        from scipy.special import softmax

        return softmax(np.zeros((len(head_means), 1000), np.float32), axis=-1)


def test_the_encoder_batches_and_passes_scene_views_to_its_networks(monkeypatch):
    nets = RecordingNetworks(":scenes")
    enc = OfflineEncoder(networks=nets, batch_size=2)
    monkeypatch.setattr(OfflineEncoder, "label_matrix", np.eye(1000, 384, dtype=np.float32))
    photos = [Image.new("RGB", (64, 48), (i * 40, 10, 10)) for i in range(3)]
    enc.encode_images_and_appearance(photos)
    enc.encode_images_and_appearance(photos, scene=True)
    assert nets.calls == [("classify", 2, False), ("classify", 1, False), ("classify", 2, True), ("classify", 1, True)]
    assert enc.scene_model_id == enc.model_id + ":scenes"
    caps = EncoderCapabilities.of(enc)
    assert caps.dense is enc and isinstance(enc, DenseAppearanceEncoder) and caps.scene_model_id.endswith(":scenes")
    fmap = enc.scene_feature_map(Image.new("RGB", (896, 448)), 224)
    assert nets.calls[-1] == ("scene_maps", (1, 3, 224, 448)) and fmap.shape == (1600, 7, 14)
    assert enc.encode_texts(["a", "b", "c"]).shape == (3, 384) and nets.calls[-1] == ("texts", 3, 2)


def test_a_scene_pass_reads_each_box_over_its_cells(monkeypatch):
    nets = RecordingNetworks()
    enc = OfflineEncoder(networks=nets)
    monkeypatch.setattr(OfflineEncoder, "label_matrix", np.eye(1000, 384, dtype=np.float32))
    boxes = [(0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0), (0.25, 0.25, 0.75, 0.75), (0.99, 0.99, 1.0, 1.0)]
    scan = enc.scene_pass(Image.new("RGB", (896, 448)), 224, boxes)  # a 7 × 14 cell map
    assert [c[0] for c in nets.calls] == ["scene_maps", "classify_pooled"]  # one pass, one classifier call
    assert scan.feature_map.shape == (1600, 7, 14)
    assert scan.vectors.shape == (5, 384) and scan.looks.shape == (5, 1600)
    head = np.arange(1280 * 7 * 14, dtype=np.float32).reshape(1280, 7, 14)
    expected = [head.mean(axis=(1, 2)), head[:, :, :7].mean(axis=(1, 2)), head[:, :, 7:].mean(axis=(1, 2)),
                head[:, 2:5, 4:10].mean(axis=(1, 2)), head[:, 6:7, 13:14].mean(axis=(1, 2))]  # a sliver: one cell
    np.testing.assert_allclose(nets.head_means, np.stack(expected), rtol=1e-6)
    left, right = enc.appearance_vectors(np.full((1, 1600), 3.0)), enc.appearance_vectors(np.ones((1, 1600)))
    np.testing.assert_allclose(scan.looks[1], left[0], atol=1e-6)
    np.testing.assert_allclose(scan.looks[2], right[0], atol=1e-6)


def test_the_network_floor_runs_the_scene_networks_alone_on_pixels_resized_beforehand():
    nets = RecordingNetworks()
    enc = OfflineEncoder(networks=nets)
    run = enc.scene_network_floor(Image.new("RGB", (896, 448)), 224)
    assert nets.calls == []  # preparing resizes only
    run()
    run()
    assert nets.calls == [("scene_maps", (1, 3, 224, 448)), ("classify", 1, True)] * 2
