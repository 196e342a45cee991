import numpy as np
import pytest
from PIL import Image

from scenefit.embed import ScenePass
from scenefit.scene import ROOM_PROMPTS, STYLE_PROMPTS, SceneAnalyzer, SceneConfig


def test_distributions_sum_to_one_and_vector_is_unit(fake_encoder):
    a = SceneAnalyzer(fake_encoder)
    s = a.analyze(Image.new("RGB", (64, 64), (120, 90, 60)))
    for dist, names in ((s.room_type, ROOM_PROMPTS), (s.style, STYLE_PROMPTS)):
        assert set(dist) == set(names)
        assert sum(dist.values()) == pytest.approx(1.0, abs=1e-5)
        assert list(dist.values()) == sorted(dist.values(), reverse=True)
    assert sum(s.palette.values()) == pytest.approx(1.0, abs=1e-3)
    assert s.vector.dtype == np.float32 and np.linalg.norm(s.vector) == pytest.approx(1, abs=1e-5)
    assert s.context is None


def test_context_shifts_query_and_room(fake_encoder):
    a = SceneAnalyzer(fake_encoder, SceneConfig(regional=False))
    im = Image.new("RGB", (64, 64), (120, 90, 60))
    plain = a.analyze(im)
    ctx = a.analyze(im, "a kitchen with cabinets and a stove kitchen kitchen")
    assert ctx.context.startswith("a kitchen")
    assert float(plain.vector @ ctx.vector) < 0.99
    assert ctx.room_type["kitchen"] > plain.room_type["kitchen"]
    assert a.analyze(im, "   ").context is None


def test_regional_embeds_whole_photo_and_five_crops(fake_encoder):
    a = SceneAnalyzer(fake_encoder, SceneConfig(regional=True))
    before = fake_encoder.image_calls
    a.analyze(Image.new("RGB", (256, 256)))
    assert fake_encoder.image_calls - before == 6
    a.analyze(Image.new("RGB", (64, 64)))  # too small for meaningful crops: whole photo only
    assert fake_encoder.image_calls - before == 7


def test_style_distribution_columns_follow_requested_names(fake_encoder):
    a = SceneAnalyzer(fake_encoder)
    vecs = fake_encoder.encode_texts(["rustic farmhouse wood", "glam gold velvet"])
    default = a.style_distribution(vecs)
    names = ["glam", "rustic", "modern"]
    picked = a.style_distribution(vecs, names)
    for j, n in enumerate(names):
        np.testing.assert_allclose(picked[:, j], default[:, a.styles.index(n)])


def test_regions_for_appearance_encoders_only(fake_encoder, appearance_encoder):
    big, small = Image.new("RGB", (256, 256), (120, 90, 60)), Image.new("RGB", (64, 64), (120, 90, 60))
    s = SceneAnalyzer(appearance_encoder).analyze(big)
    assert s.regions.shape == (14, appearance_encoder.appearance_dim)  # whole + 2×2 + 3×3
    assert SceneAnalyzer(appearance_encoder).analyze(small).regions.shape[0] == 1
    assert SceneAnalyzer(fake_encoder).analyze(big).regions is None


def _dense(appearance_encoder):
    """The fixture's appearance encoder, declaring the dense capabilities too."""

    class Dense(type(appearance_encoder)):
        scene_model_id = "fake-appearance:v1:scenes"

        def __init__(self):
            super().__init__()
            self.passes = []

        def encode_images_and_appearance(self, images, *, scene=False):
            self.passes.append((len(images), scene))
            return self.encode_images(images), self.encode_appearance(images)

        def scene_feature_map(self, image, short_side):
            self.passes.append(("feature map", short_side))
            return np.ones((self.appearance_dim, 6, 8), np.float32)

        def scene_pass(self, image, short_side, boxes):
            """Each box's vectors: those of its crop (so a test can tell the boxes apart)."""
            self.passes.append(("scene pass", short_side, len(boxes)))
            w, h = image.size
            crops = [image.crop((round(a * w), round(b * h), round(c * w), round(d * h))) for a, b, c, d in boxes]
            counts = self.image_calls, self.appearance_calls  # a pass, not image calls
            scan = ScenePass(np.ones((self.appearance_dim, 6, 8), np.float32),
                             super().encode_images(crops), super().encode_appearance(crops))
            self.image_calls, self.appearance_calls = counts
            return scan

        def appearance_vectors(self, means):
            return means / np.linalg.norm(means, axis=1, keepdims=True)

    return Dense()


def test_scene_regions_and_query_come_from_one_pass_for_a_dense_encoder(appearance_encoder):
    enc = _dense(appearance_encoder)
    a = SceneAnalyzer(enc, SceneConfig(regions="crops"))
    before = enc.image_calls
    s = a.analyze(Image.new("RGB", (256, 256), (120, 90, 60)))
    assert enc.passes == [(15, True)]  # whole + 2×2 + centre (text bridge) + 3×3 (appearance), once, as scene views
    assert s.regions.shape == (14, enc.appearance_dim)
    assert enc.image_calls - before == 15  # only through the combined call


def test_an_appearance_encoder_without_one_pass_is_called_per_kind(appearance_encoder):
    before = (appearance_encoder.image_calls, appearance_encoder.appearance_calls)
    SceneAnalyzer(appearance_encoder).analyze(Image.new("RGB", (256, 256), (120, 90, 60)))
    assert (appearance_encoder.image_calls - before[0], appearance_encoder.appearance_calls - before[1]) == (6, 14)


def _photo_with_quadrants() -> Image.Image:
    im = Image.new("RGB", (288, 192))  # sides divisible by 2 and 3 (and 4): boxes and crops agree to the pixel
    for (x, y), colour in zip(((0, 0), (144, 0), (0, 96), (144, 96)), ((200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40))):
        im.paste(colour, (x, y, x + 144, y + 96))
    return im


def test_dense_reads_every_view_from_one_pass(appearance_encoder):
    """With dense regions a scene is one pass: the regions and the query's regional part are
    read as boxes of it (the same views as crops), the windows from its feature map; besides
    it only the whole photo goes through the network, no crop."""
    enc = _dense(appearance_encoder)
    im = _photo_with_quadrants()
    crops = SceneAnalyzer(enc, SceneConfig(regions="crops")).embed(im)
    enc.passes.clear()
    images_before = enc.image_calls
    dense = SceneAnalyzer(enc, SceneConfig(regions="dense")).embed(im)
    assert enc.passes == [("scene pass", 896, 15)]
    assert enc.image_calls - images_before == 1  # and the whole photo at the network's size
    # the fake's boxes are crops of the same views, so both readings agree
    np.testing.assert_allclose(dense.vector, crops.vector, atol=1e-5)
    np.testing.assert_allclose(dense.regions, crops.regions, atol=1e-5)
    assert dense.windows is not None and crops.windows is None
    # without the regional views, the query is the whole photo's vector alone
    whole = SceneAnalyzer(enc, SceneConfig(regions="dense", regional=False)).embed(im)
    np.testing.assert_allclose(whole.vector, appearance_encoder.encode_images([im])[0], atol=1e-5)
    assert not np.allclose(whole.vector, dense.vector, atol=1e-3)


def test_dense_windows_only_from_an_encoder_that_declares_them(fake_encoder, appearance_encoder):
    im = Image.new("RGB", (256, 256), (120, 90, 60))
    dense_config = SceneConfig(regions="dense")
    enc = _dense(appearance_encoder)
    s = SceneAnalyzer(enc, dense_config).analyze(im)
    assert ("scene pass", 896, 15) in enc.passes and s.windows is not None and s.windows.shape[1] == enc.appearance_dim
    assert SceneAnalyzer(enc, SceneConfig(regions="crops")).analyze(im).windows is None  # crops when asked
    assert SceneAnalyzer(enc).analyze(im).windows is not None  # dense by default
    # an appearance encoder without a feature map, or none at all: crops, no error
    assert SceneAnalyzer(appearance_encoder, dense_config).analyze(im).windows is None
    plain = SceneAnalyzer(fake_encoder, dense_config).analyze(im)
    assert plain.windows is None and plain.regions is None


def test_what_the_analyzer_reads_of_its_encoder_is_decided_at_construction(fake_encoder, appearance_encoder):
    enc = _dense(appearance_encoder)
    assert SceneAnalyzer(fake_encoder).capabilities.appearance is None
    assert SceneAnalyzer(fake_encoder, room_model=object()).room_model is None  # needs appearance regions
    assert SceneAnalyzer(appearance_encoder).capabilities.dense is None
    assert SceneAnalyzer(appearance_encoder).capabilities.scene_model_id == appearance_encoder.model_id
    assert SceneAnalyzer(enc).capabilities.scene_model_id == "fake-appearance:v1:scenes"
    assert SceneAnalyzer(enc).temperature == enc.similarity_temperature
