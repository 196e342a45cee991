"""Colour names and their values (one table for catalog and scene), CIELAB, harmony."""

from __future__ import annotations

import functools

import numpy as np

# Every colour name with its representative sRGB, one table for products and scenes: a product
# and a scene colour of one name are the same colour. "multicolor" and "clear" are colours
# without one representative value and are left out (the ranker treats them as unknown rather
# than grey). "coral" is not a colour here: in décor rows it names the motif ("CORAL BOWL, ORANGE").
COLOURS: dict[str, str] = {
    "black": "#161616", "charcoal": "#36393d", "anthracite": "#383e42",
    "dark gray": "#5a5d61", "gray": "#8e9194", "light gray": "#c4c6c8", "greige": "#b3aba1",
    "white": "#f4f4f2", "off white": "#eeebe2", "antique white": "#ece3d0",
    "ivory": "#efe8d6", "cream": "#e8dcc0", "beige": "#d3c2a0", "taupe": "#8f8270",
    "tan": "#c2a378", "brown": "#6e4a2f", "dark brown": "#3e2a1c", "black brown": "#3a2f29",
    "walnut": "#5b3a24", "natural wood": "#b08858",
    "natural": "#c8ad85",  # undyed wood / fibre tone, a little lighter than natural wood
    "silver": "#b8babd", "antique silver": "#9d9c97", "gunmetal": "#3d4347",
    "pearl": "#e9e4d8", "pearl gray": "#c9c7c0",
    "gold": "#c9a44c", "antique gold": "#a88a4a", "rose gold": "#b76e79",
    "bronze": "#8c6a3c", "antique bronze": "#6b5433", "copper": "#b06a3b",
    "brass": "#b5a642", "antique brass": "#9c8340",
    "rust": "#a4461f", "terracotta": "#c56a45", "red": "#b3262e", "dark red": "#7d1a22",
    "burgundy": "#6d1a2a", "pink": "#e4a3b3", "light pink": "#f2c9d2", "blush": "#efc9c4",
    "orange": "#e07b2e", "orange ombre": "#eb9a5a",
    "mustard": "#c99a2e", "yellow": "#e8c93a",
    "olive": "#6f7a3a", "sage": "#9aab8a", "green": "#3f7d4a", "light green": "#a3c99a",
    "dark green": "#23452f", "antique green": "#5f6f4e", "mint": "#a8dcc0",
    "emerald": "#2f8a5e", "viridian green": "#40826d", "gray green": "#8a9a86",
    "sea green": "#2e8b6e", "teal": "#2a7a7a", "turquoise": "#3fb3b0", "aqua": "#7fd3d0",
    "blue green": "#2f8f9d", "blue": "#3b67a8", "light blue": "#a9c6e0",
    "baby blue": "#9cc8ec", "sky blue": "#87bfe6", "dark blue": "#1f3a78",
    "gray blue": "#6f8199", "navy": "#1f2b4a", "cobalt": "#1f4fa8",
    "blue ombre": "#6d94c8", "purple": "#6b4a8a", "lavender": "#bfb1d9", "plum": "#6e3a5e",
}

# The names a scene photo's measured colours are given: those a décor buyer would use for what
# a room shows. Neutral names are deliberately dense because most room pixels are walls, floors
# and textiles. Silver is left out: a flat average of pixels cannot tell brushed metal from a
# grey wall. Gold, bronze and copper stay because their hues are distinctive enough.
_SCENE_NAMES: tuple[str, ...] = (
    "black", "charcoal", "dark gray", "gray", "light gray", "greige", "white", "ivory",
    "cream", "beige", "taupe", "tan", "brown", "dark brown", "walnut", "natural wood",
    "gold", "bronze", "copper", "rust", "terracotta", "red", "burgundy", "pink",
    "blush", "orange", "mustard", "yellow", "olive", "sage", "green", "dark green",
    "teal", "turquoise", "light blue", "blue", "navy", "purple", "lavender",
)
SCENE_COLOURS: dict[str, str] = {name: COLOURS[name] for name in _SCENE_NAMES}

NEUTRALS = frozenset({
    "black", "charcoal", "dark gray", "gray", "light gray", "greige", "white", "ivory",
    "cream", "beige", "taupe", "tan", "natural wood", "gold", "bronze", "copper",
})


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    v = value.lstrip("#")
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def rgb_to_hex(rgb) -> str:
    r, g, b = (int(round(float(c))) for c in rgb)
    return f"#{max(0, min(255, r)):02x}{max(0, min(255, g)):02x}{max(0, min(255, b)):02x}"


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (…, 3) in 0..255 → CIELAB (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab


_NAMES = list(SCENE_COLOURS)
_NAME_LAB = rgb_to_lab(np.array([hex_to_rgb(SCENE_COLOURS[n]) for n in _NAMES]))


def nearest_name(rgb) -> str:
    lab = rgb_to_lab(np.asarray(rgb, dtype=np.float64))
    return _NAMES[int(np.argmin(np.linalg.norm(_NAME_LAB - lab, axis=1)))]


def colour_distance(a_hex: str, b_hex: str) -> float:
    """CIE76 ΔE between two colours (about 2.3 is just noticeable; under 20 reads as 'the same')."""
    a = rgb_to_lab(np.array(hex_to_rgb(a_hex)))
    b = rgb_to_lab(np.array(hex_to_rgb(b_hex)))
    return float(np.linalg.norm(a - b))


@functools.lru_cache(maxsize=8192)  # a few hundred named and measured colours: convert each once
def _hue_chroma(hex_value: str) -> tuple[float, float, float]:
    L, a, b = rgb_to_lab(np.array(hex_to_rgb(hex_value)))
    return float(L), float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360)


# Beige, tan, natural wood and the metallics carry too much chroma for the threshold below,
# yet they are the neutrals of a room: they go with anything.
_NEUTRAL_HEX = frozenset(SCENE_COLOURS[n] for n in NEUTRALS)


def _is_named_neutral(hex_value: str) -> bool:
    return hex_value.lower() in _NEUTRAL_HEX


@functools.lru_cache(maxsize=65536)
def harmony(a_hex: str, b_hex: str) -> float:
    """How well two colours sit together, 0..1, from classic hue relations in CIELAB.

    Low-chroma colours (neutrals) go with anything; otherwise near hues (analogous) and
    opposite hues (complementary) score high, and the awkward in-between angles score low.
    """
    _, ca, ha = _hue_chroma(a_hex)
    _, cb, hb = _hue_chroma(b_hex)
    if min(ca, cb) < 15 or _is_named_neutral(a_hex) or _is_named_neutral(b_hex):
        return 0.8  # one of them is a neutral
    d = abs(ha - hb) % 360
    d = min(d, 360 - d)
    if d <= 30:
        return 1.0 - 0.2 * d / 30  # same or analogous
    if d >= 150:
        return 0.75  # complementary
    return 0.35 + 0.25 * abs(d - 90) / 60  # triadic-ish middles are the weakest
