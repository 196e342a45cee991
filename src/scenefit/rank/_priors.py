"""Where product categories belong: a prior of category → room affinity.

Hand-written from common furnishing practice, as a starting point; it is deliberately coarse
(three levels) so it cannot pretend to knowledge it doesn't have. Rooms and categories are
the names of :mod:`scenefit.taxonomy`, checked at import; a declared category missing here
gets a neutral 0.5 for every room.
"""

from __future__ import annotations

import functools

from ..taxonomy import ROOMS, require_categories, require_rooms

HIGH, MID, LOW = 1.0, 0.6, 0.2

# category → (rooms where it is at home, rooms where it often works); all else is LOW.
_AFFINITY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "vase": (("living room", "dining room"), ("bedroom", "hallway", "home office", "kitchen")),
    "jar": (("living room", "kitchen"), ("dining room", "bedroom", "bathroom")),
    "figurine": (("living room",), ("bedroom", "home office", "kids room", "hallway")),
    "sculpture": (("living room",), ("home office", "hallway", "bedroom", "dining room")),
    "candle holder": (("living room", "dining room"), ("bedroom", "bathroom", "outdoor")),
    "candle": (("living room", "dining room", "bedroom"), ("bathroom", "outdoor", "kitchen")),
    "planter": (("living room", "outdoor"), ("kitchen", "home office", "bathroom", "hallway")),
    "tray": (("living room", "dining room", "kitchen"), ("bedroom", "bathroom")),
    "bowl": (("dining room", "kitchen", "living room"), ()),
    "plate": (("dining room", "kitchen"), ("living room",)),
    "bottle": (("living room", "dining room"), ("kitchen", "bathroom")),
    "box": (("living room", "bedroom"), ("home office", "bathroom", "hallway")),
    "mirror": (("hallway", "bedroom", "bathroom", "living room"), ("dining room",)),
    "wall art": (("living room", "bedroom", "dining room"), ("home office", "hallway", "kids room")),
    "wall decor": (("living room", "bedroom", "hallway"), ("dining room", "home office")),
    "photo frame": (("living room", "bedroom"), ("home office", "hallway")),
    "bookends": (("home office", "living room"), ("bedroom", "kids room")),
    "umbrella stand": (("hallway",), ()),
    "coat rack": (("hallway",), ("bedroom", "laundry room")),
    "garden stool": (("outdoor", "living room"), ("bathroom", "bedroom")),
    "stool": (("kitchen", "dining room"), ("living room", "outdoor", "bathroom")),
    "chess piece": (("living room", "home office"), ()),
    "table": (("living room", "dining room"), ("bedroom", "home office", "outdoor")),
    "cart": (("living room", "dining room", "kitchen"), ()),
    "chest": (("bedroom", "living room"), ("hallway",)),
    "dresser": (("bedroom",), ("hallway", "kids room")),
    "shelf": (("living room", "kitchen", "home office"), ("bedroom", "bathroom", "laundry room", "kids room")),
    "basket": (("laundry room", "bedroom", "bathroom"), ("living room", "kids room", "hallway")),
    "organizer": (("hallway", "home office", "laundry room"), ("kitchen", "bathroom", "kids room")),
    "sofa": (("living room",), ()),
    "armchair": (("living room",), ("bedroom",)),
    "ottoman": (("living room",), ("bedroom", "kids room", "home office")),
    "room divider": (("living room", "bedroom"), ("home office", "dining room")),
    "chair": (("dining room", "home office"), ("living room", "kitchen", "outdoor")),
    "bench": (("hallway", "dining room", "outdoor"), ("bedroom",)),
    "bed": (("bedroom", "kids room"), ()),
    "wardrobe": (("bedroom",), ("hallway", "kids room")),
    "lamp": (("living room", "bedroom", "home office"), ("dining room", "kids room", "hallway")),
    "lighting": (("living room", "dining room", "bedroom"), ("kitchen", "hallway", "home office")),
    "rug": (("living room", "bedroom"), ("dining room", "hallway", "kids room")),
    "cushion": (("living room", "bedroom"), ("outdoor", "kids room")),
    "textile": (("bedroom", "living room"), ("kids room", "bathroom")),
    "curtain": (("living room", "bedroom"), ("kids room", "dining room")),
    "desk": (("home office",), ("bedroom", "kids room")),
    "bookcase": (("living room", "home office"), ("bedroom", "kids room")),
    "cabinet": (("living room", "kitchen", "dining room"), ("bathroom", "bedroom", "hallway", "home office")),
    "storage": (("bedroom", "hallway", "laundry room"), ("kids room", "living room", "kitchen", "bathroom")),
    "kitchenware": (("kitchen",), ("dining room",)),
    "tableware": (("dining room", "kitchen"), ()),
    "toy": (("kids room",), ("living room",)),
    "clock": (("living room", "kitchen"), ("home office", "bedroom", "hallway")),
    "plant": (("living room", "outdoor"), ("bedroom", "home office", "kitchen", "bathroom")),
}

# A misspelt room or category would otherwise match nothing and quietly give the neutral 0.5.
require_categories(_AFFINITY, "rank room priors")
require_rooms({room for high, mid in _AFFINITY.values() for room in (*high, *mid)}, "rank room priors")


@functools.lru_cache(maxsize=1024)
def room_affinity(category: str | None) -> dict[str, float] | None:
    """Affinity of a category to each room (0..1), or None when the category is unknown."""
    if not category or category not in _AFFINITY:
        return None
    high, mid = _AFFINITY[category]
    return {r: HIGH if r in high else MID if r in mid else LOW for r in ROOMS}


def known_categories() -> list[str]:
    return sorted(_AFFINITY)
