import numpy as np
import pytest
from PIL import Image

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


def test_scene_regions_and_query_come_from_one_pass_when_possible(appearance_encoder):
    calls = []

    def both(images):
        calls.append(len(images))
        return appearance_encoder.encode_images(images), appearance_encoder.encode_appearance(images)

    appearance_encoder.encode_images_and_appearance = both
    a = SceneAnalyzer(appearance_encoder)
    before = appearance_encoder.image_calls
    s = a.analyze(Image.new("RGB", (256, 256), (120, 90, 60)))
    assert calls == [15]  # whole + 2×2 + centre (text bridge) + 3×3 (appearance), once
    assert s.regions.shape == (14, appearance_encoder.appearance_dim)
    assert appearance_encoder.image_calls - before == 15  # only through the combined call
