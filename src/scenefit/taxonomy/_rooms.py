"""Room types and interior styles: the names scenes are read as and priors are keyed by."""

from __future__ import annotations

from typing import Iterable

# The room types a scene is classified into. The room priors (rank) and the room prompts
# (scene) key off these names; a name outside this tuple is an error at import, because a
# misspelt room would otherwise match nothing and silently give every product the neutral prior.
ROOMS: tuple[str, ...] = (
    "living room", "bedroom", "dining room", "kitchen", "home office",
    "bathroom", "kids room", "hallway", "outdoor", "laundry room",
)

# The interior styles a scene (and a product photo) is read as.
STYLES: tuple[str, ...] = (
    "modern", "contemporary", "scandinavian", "industrial", "bohemian",
    "traditional", "mid-century modern", "rustic", "coastal", "glam",
)


def _require(kind: str, declared: tuple[str, ...], names: Iterable[str], where: str) -> None:
    unknown = sorted(set(names) - set(declared))
    if unknown:
        raise ValueError(f"{where}: {', '.join(map(repr, unknown))} not declared in scenefit.taxonomy.{kind}")


def require_rooms(names: Iterable[str], where: str) -> None:
    """ValueError naming ``where`` unless every name is a declared room."""
    _require("ROOMS", ROOMS, names, where)


def require_styles(names: Iterable[str], where: str) -> None:
    """ValueError naming ``where`` unless every name is a declared style."""
    _require("STYLES", STYLES, names, where)
