"""Colour arithmetic: CIELAB conversion, colour names and harmony."""

from __future__ import annotations

import numpy as np
import pytest

from scenefit.taxonomy import (
    NEUTRALS, SCENE_COLOURS, colour_distance, harmony, hex_to_rgb, nearest_name, rgb_to_hex, rgb_to_lab,
)

C = SCENE_COLOURS


def test_rgb_to_lab_reference_points():
    np.testing.assert_allclose(rgb_to_lab([255, 255, 255]), [100.0, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(rgb_to_lab([0, 0, 0]), [0.0, 0.0, 0.0], atol=1e-6)
    # sRGB red, a standard reference value (D65): L 53.24, a 80.09, b 67.20
    np.testing.assert_allclose(rgb_to_lab([255, 0, 0]), [53.24, 80.09, 67.20], atol=0.1)
    grey = rgb_to_lab([128, 128, 128])
    assert abs(grey[1]) < 0.05 and abs(grey[2]) < 0.05 and 50 < grey[0] < 56


def test_rgb_to_lab_keeps_leading_shape():
    img = np.zeros((4, 3, 3))
    img[..., 0] = 255
    lab = rgb_to_lab(img)
    assert lab.shape == (4, 3, 3)
    np.testing.assert_allclose(lab[2, 1], rgb_to_lab([255, 0, 0]))


def test_hex_round_trip_and_clamp():
    assert hex_to_rgb("#3b67a8") == (0x3B, 0x67, 0xA8)
    assert rgb_to_hex(hex_to_rgb("#3b67a8")) == "#3b67a8"
    assert rgb_to_hex((300, -5, 127.6)) == "#ff0080"


@pytest.mark.parametrize("rgb, name", [
    ((255, 255, 255), "white"), ((0, 0, 0), "black"), ((200, 30, 40), "red"),
    ((30, 40, 75), "navy"), ((60, 125, 75), "green"), ((142, 145, 148), "gray"),
    ((235, 200, 60), "yellow"),
])
def test_nearest_name(rgb, name):
    assert nearest_name(rgb) == name


def test_every_named_colour_is_its_own_nearest_name():
    for name, hx in C.items():
        assert nearest_name(hex_to_rgb(hx)) == name


def test_colour_distance():
    assert colour_distance(C["blue"], C["blue"]) == 0.0
    assert colour_distance(C["white"], C["black"]) > 80
    assert colour_distance(C["blue"], C["navy"]) == pytest.approx(colour_distance(C["navy"], C["blue"]))


@pytest.mark.parametrize("neutral", ["white", "gray", "black", "charcoal", "beige", "tan", "natural wood", "gold"])
@pytest.mark.parametrize("other", ["red", "blue", "teal", "mustard", "white"])
def test_neutral_goes_with_anything(neutral, other):
    assert harmony(C[neutral], C[other]) == 0.8
    assert harmony(C[other], C[neutral]) == 0.8


def test_same_hue_is_best():
    for name in ("red", "blue", "green", "teal", "purple"):
        assert harmony(C[name], C[name]) == pytest.approx(1.0)
    assert 0.9 < harmony(C["blue"], C["navy"]) < 1.0  # analogous: near, not the same hue


def test_complementary_scores_0_75():
    # blue (hue ≈ 279° in CIELAB) against yellow (≈ 93°): nearly opposite
    assert harmony(C["blue"], C["yellow"]) == 0.75
    assert harmony(C["yellow"], C["blue"]) == 0.75


def test_in_between_hues_score_lower():
    middles = [harmony(C["blue"], C["teal"]), harmony(C["blue"], C["red"]), harmony(C["blue"], C["green"])]
    for h in middles:
        assert 0.35 <= h < 0.75
    assert max(middles) < harmony(C["blue"], C["yellow"]) < harmony(C["blue"], C["navy"])


def test_harmony_is_symmetric_and_bounded():
    names = list(C)
    for a in names:
        for b in names:
            h = harmony(C[a], C[b])
            assert 0.0 <= h <= 1.0
            assert h == pytest.approx(harmony(C[b], C[a]))


def test_neutrals_are_low_chroma_names():
    assert {"white", "black", "gray", "beige"} <= NEUTRALS
    assert not {"red", "blue", "teal"} & NEUTRALS
