"""Colour arithmetic shared by the scene analyser and the ranker: names, CIELAB, harmony."""

from __future__ import annotations

import functools

import numpy as np

# Names a décor buyer would use for what a room photo shows. Neutral names are deliberately
# dense because most room pixels are walls, floors and textiles. Silver is left out: a flat
# average of pixels cannot tell brushed metal from a grey wall. Gold, bronze and copper stay
# because their hues are distinctive enough.
SCENE_COLOURS: dict[str, str] = {
    "black": "#161616", "charcoal": "#36393d", "dark gray": "#5a5d61", "gray": "#8e9194",
    "light gray": "#c4c6c8", "greige": "#b3aba1", "white": "#f4f4f2", "ivory": "#efe8d6",
    "cream": "#e8dcc0", "beige": "#d3c2a0", "taupe": "#8f8270", "tan": "#c2a378",
    "brown": "#6e4a2f", "dark brown": "#3e2a1c", "walnut": "#5b3a24", "natural wood": "#b08858",
    "gold": "#c9a44c", "bronze": "#8c6a3c", "copper": "#b06a3b", "rust": "#a4461f",
    "terracotta": "#c56a45", "red": "#b3262e", "burgundy": "#6d1a2a", "pink": "#e4a3b3",
    "blush": "#efc9c4", "orange": "#e07b2e", "mustard": "#c99a2e", "yellow": "#e8c93a",
    "olive": "#6f7a3a", "sage": "#9aab8a", "green": "#3f7d4a", "dark green": "#23452f",
    "teal": "#2a7a7a", "turquoise": "#3fb3b0", "light blue": "#a9c6e0", "blue": "#3b67a8",
    "navy": "#1f2b4a", "purple": "#6b4a8a", "lavender": "#bfb1d9",
}

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
