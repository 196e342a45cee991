from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from scenefit.learn._composites import CompositeConfig, compose, cut_out


def _packshot(size=(200, 160), box=(50, 40, 150, 120), hole=(90, 70, 110, 90)) -> Image.Image:
    """A red product with a white window in it, on a studio-white background."""
    im = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=(200, 20, 20))
    draw.rectangle([hole[0], hole[1], hole[2] - 1, hole[3] - 1], fill=(255, 255, 255))
    return im


def test_cut_out_keeps_the_product_and_the_white_inside_it():
    cut, on_white = cut_out(_packshot())
    assert on_white and cut.mode == "RGBA"
    # cropped to the product (give or take the soft edge)
    assert abs(cut.width - 100) <= 2 and abs(cut.height - 80) <= 2
    alpha = np.asarray(cut.getchannel("A"))
    h, w = alpha.shape
    assert alpha[h // 2 - 20, w // 2 - 30] == 255  # red body
    assert alpha[h // 2, w // 2] == 255  # the white window inside is part of the product
    rgb = np.asarray(cut.convert("RGB"))
    assert tuple(rgb[h // 2, w // 2]) == (255, 255, 255)


def test_a_photo_not_shot_on_white_is_kept_whole():
    lifestyle = Image.new("RGB", (120, 90), (90, 120, 60))
    cut, on_white = cut_out(lifestyle)
    assert not on_white and cut.size == (120, 90)
    assert np.asarray(cut.getchannel("A")).min() == 255


def test_a_blank_photo_is_not_cut_to_nothing():
    cut, on_white = cut_out(Image.new("RGB", (64, 64), (255, 255, 255)))
    assert not on_white and cut.size == (64, 64)


def test_compose_pastes_every_product_inside_the_frame_and_repeats_with_its_seed():
    background = Image.new("RGB", (640, 480), (40, 60, 200))
    products = [cut_out(_packshot())[0] for _ in range(3)]
    cfg = CompositeConfig(short_side=240, occlusion=0.0)
    one = compose(background, products, cfg, np.random.default_rng(3))
    two = compose(background, products, cfg, np.random.default_rng(3))
    assert min(one.image.size) == 240 and len(one.boxes) == 3
    np.testing.assert_array_equal(np.asarray(one.image), np.asarray(two.image))
    w, h = one.image.size
    pixels = np.asarray(one.image, np.int32)
    for x0, y0, x1, y1 in one.boxes:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    # the last paste is on top: its box is mostly the product's red, not the blue background
    x0, y0, x1, y1 = one.boxes[-1]
    patch = pixels[y0:y1, x0:x1]
    assert (patch[..., 0] > patch[..., 2]).mean() > 0.5


def test_product_sizes_follow_the_scale_range():
    background = Image.new("RGB", (800, 600), (128, 128, 128))
    product = cut_out(_packshot())[0]
    cfg = CompositeConfig(short_side=300, scale=(0.1, 0.2), occlusion=0.0, products=(1, 1))
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = compose(background, [product], cfg, rng)
        x0, _, x1, _ = c.boxes[0]
        # the box is clipped at the frame's edges, so it can only be smaller than the paste
        assert x1 - x0 <= 0.2 * c.image.width + 1
