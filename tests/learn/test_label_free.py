"""``scenefit adapt`` end to end on a small catalog, with the cheap fake appearance encoder:
composites made, the adapter fitted, saved beside the labelled one and used by match."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from scenefit import ConfigError, Engine
from scenefit.learn import (ADAPTER_FILE, LABEL_FREE_FILE, AdapterFitConfig, AdapterSample, AppearanceAdapter,
                            FittedBundle, LabelFreeConfig, background_photos)
from scenefit.learn._label_free import ProductPhotos, composite_samples

COLOURS = [(200, 30, 30), (30, 160, 40), (30, 40, 190), (220, 200, 30), (120, 40, 160), (20, 170, 170),
           (240, 130, 20), (90, 60, 30)]


def _product(path, colour, shape):
    im = Image.new("RGB", (120, 120), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    if shape:
        draw.ellipse([20, 30, 100, 100], fill=colour)
    else:
        draw.rectangle([30, 20, 90, 105], fill=colour)
    im.save(path)
    return path


def _room(path, seed):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(60, 200, size=(24, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((320, 240), Image.Resampling.NEAREST).save(path)
    return path


@pytest.fixture
def engine(tmp_path, monkeypatch, appearance_encoder):
    import scenefit.engine as engine_mod

    monkeypatch.setattr(engine_mod, "build_encoder", lambda config: (
        appearance_encoder, config.model_copy(update={"backend": "offline"}), "fake"))
    rows = ["id,sku_id,description,primary_image"]
    for i, colour in enumerate(COLOURS):
        photo = _product(tmp_path / f"p{i}.png", colour, i % 2)
        rows.append(f"p{i},s{i},ITEM NUMBER {i},{photo.name}")
    rows.append("t1,s99,TEXT ONLY ITEM,")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    rooms = tmp_path / "rooms"
    rooms.mkdir()
    for i in range(2):
        _room(rooms / f"room{i}.jpg", i)
    (rooms / "notes.txt").write_text("not a photo")
    e = Engine(tmp_path / "ix", log=lambda m: None)
    e.ingest(tmp_path / "c.csv")
    return e, rooms


def _small(composites=6, seed=0, **kw):
    return LabelFreeConfig(composites=composites, seed=seed, fit=AdapterFitConfig(steps=4, batch=3), **kw)


def test_adapt_saves_a_label_free_adapter_that_match_uses(engine):
    e, rooms = engine
    result = e.adapt(rooms, regions="crops", config=_small())
    assert result.composites == 6 and result.backgrounds == 2  # notes.txt is not a background
    assert 2 <= result.products <= 8  # only products with a photo are pasted
    saved = AppearanceAdapter.load_label_free(e.index_dir)
    assert saved is not None and not (e.index_dir / ADAPTER_FILE).exists()
    assert saved.source == "composites" and saved.regions == "crops"
    assert saved.model_id == e.index.manifest.model_id
    assert saved.details["composites"] == 6 and saved.details["background_source"] == "user"
    np.testing.assert_array_equal(saved.matrix, result.adapter.matrix)
    assert np.abs(saved.matrix).sum() > 0  # it moved away from the identity map
    # match, eval and serve follow it: its regions, and the ranker scores through it
    assert e.scene_config.regions == "crops"
    np.testing.assert_array_equal(e.ranker().adapter.matrix, saved.matrix)
    assert len(e.match(rooms / "room0.jpg", k=3).recommendations) == 3


def test_a_labelled_adapter_wins_and_the_label_free_one_stays_to_start_from(engine):
    e, rooms = engine
    e.adapt(rooms, regions="crops", config=_small())
    d = e.index.appearance.dim
    labelled = AppearanceAdapter(np.full((d, d), 0.01, np.float32), model_id=e.index.manifest.model_id,
                                 regions="crops")
    labelled.save(e.index_dir)
    bundle = FittedBundle.load(e.index_dir, e.index.manifest.model_id, lambda m: None)
    assert bundle.adapter.source == "labels" and bundle.label_free.source == "composites"
    assert (e.index_dir / ADAPTER_FILE).exists() and (e.index_dir / LABEL_FREE_FILE).exists()


def test_adapt_repeats_with_its_seed_and_the_shipped_photo_is_the_default_background(engine):
    e, _ = engine
    one = e.adapt(None, regions="crops", config=_small(composites=3, seed=5))
    two = e.adapt(None, regions="crops", config=_small(composites=3, seed=5))
    np.testing.assert_array_equal(one.adapter.matrix, two.adapter.matrix)
    assert one.adapter.details["background_source"] == "shipped" and one.backgrounds == 1
    assert one.summary()["source"] == "composites"


def test_adapt_refuses_what_it_cannot_learn_from(engine, tmp_path):
    e, _ = engine
    with pytest.raises(ConfigError, match="not a folder"):
        e.adapt(tmp_path / "c.csv", config=_small())  # a file, not a folder
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no image file"):
        background_photos(empty)
    with pytest.raises(ConfigError, match="no composite"):
        e.adapt(None, regions="crops", config=_small(max_seconds=0.0))


def test_adapt_needs_product_photos(tmp_path, monkeypatch, appearance_encoder):
    import scenefit.engine as engine_mod

    monkeypatch.setattr(engine_mod, "build_encoder", lambda config: (
        appearance_encoder, config.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE,\n2,b,WOOD CHEST,\n")
    e = Engine(tmp_path / "ix", log=lambda m: None)
    e.ingest(tmp_path / "c.csv")
    with pytest.raises(ConfigError, match="product photo"):
        e.adapt(None, config=_small())


def test_a_further_photo_on_white_is_pasted_when_the_primary_is_a_lifestyle_shot(tmp_path, appearance_encoder):
    from scenefit.scene import SceneConfig

    lifestyle = tmp_path / "life.png"
    Image.new("RGB", (100, 80), (70, 110, 60)).save(lifestyle)
    packshot = _product(tmp_path / "pack.png", (200, 30, 30), 0)
    asked = []

    def stored(keys):
        asked.extend(keys.tolist())
        return np.ones((len(keys), appearance_encoder.appearance_dim), np.float32)

    samples, matrix = composite_samples([ProductPhotos(7, (lifestyle, packshot))], [_room(tmp_path / "r.png", 0)],
                                        appearance_encoder, stored, SceneConfig(regions="crops"),
                                        _small(composites=2))
    assert len(samples) == 2 and all(s.relevant.tolist() == [0] for s in samples)
    # the packshot was pasted, so its vector is encoded here, not the stored (first photo's) one
    assert asked == []
    expected = appearance_encoder.encode_appearance([Image.open(packshot)])[0]
    np.testing.assert_allclose(matrix[0], expected, rtol=1e-5)


def test_a_labelled_fit_starts_from_the_label_free_adapter():
    rng = np.random.default_rng(0)
    catalog = rng.normal(size=(10, 6)).astype(np.float32)
    samples = [AdapterSample(catalog[[i]], np.array([i])) for i in range(4)]
    start = AppearanceAdapter(rng.normal(scale=0.1, size=(6, 6)).astype(np.float32))
    unchanged = AppearanceAdapter.fit(samples, catalog, AdapterFitConfig(steps=0), start=start)
    np.testing.assert_array_equal(unchanged.matrix, start.matrix)
    moved = AppearanceAdapter.fit(samples, catalog, AdapterFitConfig(steps=3, batch=2), start=start)
    assert not np.array_equal(moved.matrix, start.matrix)
    assert np.abs(moved.matrix - start.matrix).max() < 0.05  # a few small steps from it, not from zero
    np.testing.assert_array_equal(start.matrix, unchanged.matrix)  # the start itself is left as it was
