from PIL import Image, ImageDraw

from scenefit.scene import PALETTES, dominant_colours, palette_distribution


def _two_tone(left, right, size=(120, 80)):
    im = Image.new("RGB", size, left)
    ImageDraw.Draw(im).rectangle([size[0] * 3 // 4, 0, size[0], size[1]], fill=right)
    return im


def test_dominant_colours_measure_pixel_shares():
    # 3/4 navy, 1/4 cream: the measured shares and names must say so.
    colours = dominant_colours(_two_tone((31, 43, 74), (232, 220, 192)), k=4)
    names = [c.name for c in colours]
    assert names[0] == "navy" and "cream" in names
    shares = {c.name: c.share for c in colours}
    assert abs(shares["navy"] - 0.75) < 0.05 and abs(shares["cream"] - 0.25) < 0.05
    assert abs(sum(shares.values()) - 1) < 1e-3
    assert all(c.hex.startswith("#") and len(c.hex) == 7 for c in colours)


def test_single_colour_image_merges_to_one_name():
    colours = dominant_colours(Image.new("RGB", (50, 50), (22, 22, 22)), k=6)
    assert [c.name for c in colours] == ["black"]
    assert colours[0].share == 1.0


def test_palette_is_a_distribution_led_by_the_right_family():
    blues = palette_distribution(dominant_colours(Image.new("RGB", (40, 40), (59, 103, 168))))
    assert set(blues) == set(PALETTES)
    assert abs(sum(blues.values()) - 1) < 1e-3
    assert next(iter(blues)) == "cool blues and greens"
    warm = palette_distribution(dominant_colours(Image.new("RGB", (40, 40), (211, 194, 160))))
    assert next(iter(warm)) == "warm neutrals"
