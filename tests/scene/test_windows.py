"""Dense regional matching: feature-map windows, and the scene analysis that uses them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scenefit.scene import SceneAnalyzer, SceneConfig
from scenefit.scene._windows import window_means


def test_windows_are_block_means():
    rng = np.random.default_rng(0)
    fmap = rng.random((8, 10, 13)).astype(np.float32)
    out = window_means(fmap, sizes=(2, 4), stride=3)
    # 2×2 windows at stride 3: 3 rows × 4 columns; 4×4: 3 × 4.
    assert out.shape == (3 * 4 + 3 * 4, 8)
    np.testing.assert_allclose(out[1 * 4 + 2], fmap[:, 3:5, 6:8].mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(out[12 + 2 * 4 + 1], fmap[:, 6:10, 3:7].mean(axis=(1, 2)), rtol=1e-5)


def test_every_default_window_is_its_block_mean_in_order():
    from scenefit.scene._windows import STRIDE, WINDOW_SIZES

    fmap = np.random.default_rng(2).random((16, 28, 45)).astype(np.float32)
    expected = [fmap[:, y : y + s, x : x + s].mean(axis=(1, 2)) for s in WINDOW_SIZES
                for y in range(0, 28 - s + 1, STRIDE) for x in range(0, 45 - s + 1, STRIDE)]
    np.testing.assert_allclose(window_means(fmap), np.stack(expected), rtol=1e-5, atol=1e-6)


def test_a_window_larger_than_the_map_is_the_whole_map():
    fmap = np.random.default_rng(1).random((4, 3, 5)).astype(np.float32)
    out = window_means(fmap, sizes=(16,), stride=3)
    assert out.shape == (1, 4)
    np.testing.assert_allclose(out[0], fmap.mean(axis=(1, 2)), rtol=1e-5)


def test_dense_config_is_validated():
    with pytest.raises(ValueError):
        SceneConfig(regions="pixels")


@pytest.mark.slow
def test_dense_scene_analysis_with_the_offline_encoder(living_room):
    from scenefit.embed._offline import OfflineEncoder

    encoder = OfflineEncoder(runtime="onnx")
    photo = Image.open(living_room).convert("RGB")
    crops = SceneAnalyzer(encoder, SceneConfig(regions="crops")).analyze(photo)
    dense = SceneAnalyzer(encoder, SceneConfig(regions="dense")).analyze(photo)
    assert crops.windows is None and crops.looks is crops.regions
    assert dense.windows.shape[1] == encoder.appearance_dim and 100 <= len(dense.windows) <= 400
    np.testing.assert_allclose(np.linalg.norm(dense.windows, axis=1), 1, rtol=1e-5)
    assert dense.looks is dense.windows
    # the same views, read from one pass instead of crops: each region nearest its own crop
    # more often than not, and nearer its own than the others on average
    sims_views = dense.regions @ crops.regions.T
    assert dense.regions.shape == crops.regions.shape
    assert (sims_views.argmax(axis=1) == np.arange(len(sims_views))).mean() >= 0.5
    assert np.diag(sims_views).mean() > sims_views[~np.eye(len(sims_views), dtype=bool)].mean() + 0.05
    # Windows see different parts of the room, not one global average.
    sims = dense.windows @ dense.windows.T
    assert sims.min() < 0.9


@pytest.mark.slow
def test_onnx_feature_map_matches_pytorch(living_room):
    from scenefit.embed._offline import OfflineEncoder

    photo = Image.open(living_room).convert("RGB")
    a = OfflineEncoder(runtime="torch").scene_feature_map(photo, 448)
    b = OfflineEncoder(runtime="onnx").scene_feature_map(photo, 448)
    assert a.shape == b.shape == (1280 + 320, 14, 14)
    fa, fb = a.reshape(1600, -1).T, b.reshape(1600, -1).T
    cos = (fa * fb).sum(1) / np.linalg.norm(fa, axis=1) / np.linalg.norm(fb, axis=1)
    assert cos.min() >= 0.999


@pytest.mark.slow
def test_onnx_scene_pass_matches_pytorch(living_room):
    from scenefit.embed._offline import OfflineEncoder

    photo = Image.open(living_room).convert("RGB")
    boxes = [(0.0, 0.0, 1.0, 1.0), (0.0, 0.5, 0.5, 1.0), (1 / 3, 1 / 3, 2 / 3, 2 / 3)]
    a = OfflineEncoder(runtime="torch").scene_pass(photo, 448, boxes)
    b = OfflineEncoder(runtime="onnx").scene_pass(photo, 448, boxes)
    assert ((a.vectors * b.vectors).sum(1) >= 0.999).all() and ((a.looks * b.looks).sum(1) >= 0.999).all()
