"""Product categories: the canonical names the catalog normaliser assigns and the ranker's
room priors are keyed by.

Catalog parsing maps many phrases onto these ("nightstand" → "table"); the phrase tables
stay in :mod:`scenefit.catalog`. Both sides check their names against this tuple at import.
"""

from __future__ import annotations

from typing import Iterable

CATEGORIES: tuple[str, ...] = (
    # décor
    "vase", "jar", "bottle", "bowl", "plate", "tray", "box", "basket", "planter",
    "candle holder", "candle", "figurine", "sculpture", "wall art", "wall decor", "mirror",
    "photo frame", "clock", "bookends", "umbrella stand", "garden stool", "stool",
    "chess piece", "organizer", "coat rack", "plant",
    # furniture
    "table", "desk", "chair", "armchair", "sofa", "bench", "ottoman", "bed", "wardrobe",
    "dresser", "chest", "cabinet", "bookcase", "shelf", "cart", "storage", "room divider",
    # lighting and textiles
    "lamp", "lighting", "rug", "cushion", "curtain", "textile",
    # kitchen and dining
    "tableware", "kitchenware",
    "toy",
)


def require_categories(names: Iterable[str], where: str) -> None:
    """ValueError naming ``where`` unless every name is a declared product category."""
    unknown = sorted(set(names) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"{where}: {', '.join(map(repr, unknown))} not declared in "
                         "scenefit.taxonomy.CATEGORIES")
