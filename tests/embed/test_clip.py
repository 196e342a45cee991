"""ClipEncoder against tiny random-weight CLIP / SigLIP / SigLIP2 checkpoints.

The checkpoints are built here (CLIP by the ``tiny_hf`` kit in conftest.py) and saved with
``save_pretrained``, so the real loading code (AutoModel, AutoTokenizer, AutoImageProcessor
from a folder) runs without the hub.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from tokenizers import Tokenizer, models, pre_tokenizers, processors  # noqa: E402

from scenefit._errors import ConfigError, ModelError  # noqa: E402
from scenefit.embed._base import Encoder  # noqa: E402
from scenefit.embed._clip import ClipEncoder, clip_available  # noqa: E402

UNCACHED_HUB_NAME = "scenefit-tests/definitely-not-a-real-model"


def _save_tiny_siglip(folder: Path, kit) -> None:
    # SiglipTokenizer needs sentencepiece (not a dependency), so this checkpoint carries a
    # plain tokenizers-backed tokenizer; the model side (no projection, last-token pooling,
    # max_length padding) is what is under test.
    from transformers import PreTrainedTokenizerFast, SiglipConfig, SiglipImageProcessorPil, SiglipModel

    specials = ["<pad>", "</s>", "<unk>"]
    vocab, merges = kit.trained_bpe(pre_tokenizers.Metaspace(), specials)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=kit.MAX_TOKENS
    )
    ids = dict(pad_token_id=vocab["<pad>"], bos_token_id=None, eos_token_id=vocab["</s>"])
    config = SiglipConfig(
        text_config=dict(kit.TINY, vocab_size=len(vocab), max_position_embeddings=kit.MAX_TOKENS, projection_size=32, **ids),
        vision_config=dict(kit.TINY, image_size=32, patch_size=8),
    )
    torch.manual_seed(0)
    SiglipModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    SiglipImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)


def _save_tiny_siglip2(folder: Path, kit) -> None:
    from transformers import Siglip2Config, Siglip2ImageProcessorPil, Siglip2Model, Siglip2Tokenizer

    specials = ["<pad>", "<eos>", "<bos>", "<mask>", "<unk>"]
    vocab, merges = kit.trained_bpe(pre_tokenizers.Metaspace(), specials)
    tok = Siglip2Tokenizer(vocab=vocab, merges=merges, model_max_length=kit.MAX_TOKENS)
    ids = dict(pad_token_id=vocab["<pad>"], bos_token_id=vocab["<bos>"], eos_token_id=vocab["<eos>"])
    config = Siglip2Config(
        text_config=dict(kit.TINY, vocab_size=len(vocab), max_position_embeddings=kit.MAX_TOKENS, projection_size=32, **ids),
        vision_config=dict(kit.TINY, patch_size=8, num_patches=16),
    )
    torch.manual_seed(0)
    Siglip2Model(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    # NaFlex: variable-resolution patches plus a mask and shapes, all passed to the model.
    Siglip2ImageProcessorPil(patch_size=8, max_num_patches=16).save_pretrained(folder)


BUILDERS = {
    "clip": (lambda folder, kit: kit.save_clip(folder, seed=0), 16),
    "siglip": (_save_tiny_siglip, 32),
    "siglip2": (_save_tiny_siglip2, 32),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory, tiny_hf) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    out = {}
    for kind, (build, _) in BUILDERS.items():
        build(root / kind, tiny_hf)
        out[kind] = root / kind
    tiny_hf.save_clip(root / "clip-other-seed", seed=1)
    out["clip-other-seed"] = root / "clip-other-seed"
    return out


@pytest.fixture(scope="module", params=list(BUILDERS))
def tiny(request, folders) -> tuple[ClipEncoder, int]:
    return ClipEncoder(str(folders[request.param]), batch_size=2), BUILDERS[request.param][1]


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    return [rgb, Image.new("L", (32, 64), 128), Image.new("RGBA", (64, 32), (0, 200, 0, 255))]


def _assert_unit_rows(x: np.ndarray, n: int, dim: int) -> None:
    assert x.shape == (n, dim)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_dim_and_protocol(tiny):
    enc, dim = tiny
    assert enc.dim == dim
    assert isinstance(enc, Encoder)
    assert enc.model_id.startswith("clip:")


def test_images_shape_norm_and_batching(tiny):
    enc, dim = tiny
    vecs = enc.encode_images(_images())  # batch_size=2: two batches, three modes
    _assert_unit_rows(vecs, 3, dim)
    alone = enc.encode_images(_images()[2:])
    np.testing.assert_allclose(alone[0], vecs[2], atol=1e-5)
    assert not np.allclose(vecs[0], vecs[1], atol=1e-3)


def test_texts_shape_norm_determinism(tiny):
    enc, dim = tiny
    texts = ["a red sofa", "a wooden table", "a green plant", "a red sofa"]
    vecs = enc.encode_texts(texts)
    _assert_unit_rows(vecs, 4, dim)
    np.testing.assert_allclose(vecs[0], vecs[3], atol=1e-5)  # same text in another batch
    np.testing.assert_array_equal(vecs, enc.encode_texts(texts))
    assert not np.allclose(vecs[0], vecs[1], atol=1e-3)


def test_long_text_is_truncated(tiny):
    enc, dim = tiny
    long = " ".join(["chair"] * 1200)
    _assert_unit_rows(enc.encode_texts([long, "lamp"]), 2, dim)


def test_empty_inputs(tiny):
    enc, dim = tiny
    assert enc.encode_texts([]).shape == (0, dim)
    assert enc.encode_images([]).shape == (0, dim)


def test_model_id_tracks_weights(folders):
    a = ClipEncoder(str(folders["clip"]))
    b = ClipEncoder(str(folders["clip-other-seed"]))  # same config, other weights
    assert a.model_id != b.model_id
    assert a.model_id == ClipEncoder(str(folders["clip"])).model_id
    assert a.model_id.startswith("clip:clip@")
    assert not np.allclose(a.encode_texts(["sofa"]), b.encode_texts(["sofa"]), atol=1e-3)


def test_clip_available_local(folders):
    ok, why = clip_available(str(folders["clip"]))
    assert ok and "local folder" in why


def test_clip_available_missing_folder_is_fast():
    start = time.monotonic()
    ok, why = clip_available("/nonexistent/clip-model")
    assert not ok and "no such folder" in why
    assert time.monotonic() - start < 1


def test_clip_available_offline_hub_name(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    ok, why = clip_available(UNCACHED_HUB_NAME)
    assert not ok and "HF_HUB_OFFLINE" in why
    assert time.monotonic() - start < 2


def test_offline_hub_name_raises_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(ModelError, match="not in the local cache.*HF_HUB_OFFLINE"):
        ClipEncoder(UNCACHED_HUB_NAME)
    assert time.monotonic() - start < 5


def test_local_files_only_hub_name_raises():
    with pytest.raises(ModelError, match="not in the local cache"):
        ClipEncoder(UNCACHED_HUB_NAME, local_files_only=True)


def test_bad_device_raises(folders):
    with pytest.raises(ModelError, match="cannot load CLIP model"):
        ClipEncoder(str(folders["clip"]), device="no-such-device")


def test_missing_folder_raises():
    with pytest.raises(ModelError, match="no such folder"):
        ClipEncoder("/nonexistent/clip-model")


def test_garbage_folder_raises_one_line(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage" * 100)
    assert clip_available(str(tmp_path))[0]  # looks complete; loading finds out
    with pytest.raises(ModelError) as info:
        ClipEncoder(str(tmp_path))
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_corrupt_weights_raise(folders, tmp_path):
    for f in folders["clip"].iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken")
    with pytest.raises(ModelError, match="cannot load CLIP model"):
        ClipEncoder(str(tmp_path))


def test_not_an_image_text_model(tmp_path, tiny_hf):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=50, **tiny_hf.TINY)).save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="not an image-text model"):
        ClipEncoder(str(tmp_path))


def test_no_weights_is_unavailable(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    ok, why = clip_available(str(tmp_path))
    assert not ok and "no model weights" in why


def test_bad_batch_size():
    with pytest.raises(ConfigError):
        ClipEncoder("/nonexistent", batch_size=0)


def test_import_is_lazy():
    code = (
        "import sys, scenefit; before = set(sys.modules); import scenefit.embed._clip; "
        "print(sorted({'torch', 'transformers'} & (set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
