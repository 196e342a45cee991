"""Dominant colours measured from the pixels, and the palette family they add up to."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..taxonomy import SCENE_COLOURS, hex_to_rgb, nearest_name, rgb_to_hex, rgb_to_lab
from .._types import NamedColour

# Palette families, each described by colours that define it. A scene's palette distribution
# is how much of its measured colour mass lies close (in CIELAB) to each family.
PALETTES: dict[str, tuple[str, ...]] = {
    "warm neutrals": ("cream", "beige", "tan", "taupe", "ivory", "natural wood"),
    "cool neutrals": ("gray", "light gray", "charcoal", "greige", "white"),
    "monochrome": ("black", "white", "dark gray"),
    "earth tones": ("brown", "walnut", "terracotta", "rust", "olive", "mustard"),
    "cool blues and greens": ("navy", "blue", "light blue", "teal", "sage", "green"),
    "warm brights": ("red", "orange", "yellow", "pink"),
    "pastels": ("blush", "lavender", "light blue", "sage"),
    "jewel tones": ("dark green", "navy", "burgundy", "purple", "teal"),
    "metallic accents": ("gold", "bronze", "copper"),
}
_PALETTE_LAB = {
    name: rgb_to_lab(np.array([hex_to_rgb(SCENE_COLOURS[c]) for c in cols]))
    for name, cols in PALETTES.items()
}


def dominant_colours(image: Image.Image, k: int = 6, *, seed: int = 7) -> list[NamedColour]:
    """k-means (FAISS) on CIELAB pixels of a thumbnail; clusters that share a name are merged."""
    import faiss

    thumb = image.convert("RGB").copy()
    thumb.thumbnail((96, 96))
    rgb = np.asarray(thumb, dtype=np.float64).reshape(-1, 3)
    lab = rgb_to_lab(rgb).astype(np.float32)
    k = max(1, min(k, len(lab)))
    km = faiss.Kmeans(3, k, niter=25, seed=seed, verbose=False)
    km.train(lab)
    _, assign = km.index.search(lab, 1)
    assign = assign[:, 0]
    merged: dict[str, list] = {}
    for c in range(k):
        members = assign == c
        if not members.any():
            continue
        mean_rgb = rgb[members].mean(axis=0)
        share = float(members.mean())
        name = nearest_name(mean_rgb)
        if name in merged:
            prev_rgb, prev_share = merged[name]
            total = prev_share + share
            merged[name] = [(prev_rgb * prev_share + mean_rgb * share) / total, total]
        else:
            merged[name] = [mean_rgb, share]
    colours = [NamedColour(name, rgb_to_hex(m), round(s, 4)) for name, (m, s) in merged.items()]
    return sorted(colours, key=lambda c: -c.share)


def palette_distribution(colours: list[NamedColour], *, scale: float = 18.0) -> dict[str, float]:
    """Probabilities over :data:`PALETTES` (sum to 1) from measured colours and their shares."""
    scores = {}
    for name, refs in _PALETTE_LAB.items():
        s = 0.0
        for c in colours:
            lab = rgb_to_lab(np.array(hex_to_rgb(c.hex), dtype=np.float64))
            d = float(np.min(np.linalg.norm(refs - lab, axis=1)))
            s += c.share * np.exp(-d / scale)
        scores[name] = s
    total = sum(scores.values()) or 1.0
    return {k: round(float(v) / total, 4) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])}
