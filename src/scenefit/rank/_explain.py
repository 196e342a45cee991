"""One-line, factor-based explanations of a pick."""

from __future__ import annotations

from .._colour import colour_distance, harmony
from .._types import SceneAnalysis
from ..catalog import colour_hex
from ..index import ProductRecord

# A factor is worth mentioning when it is clearly good; the thresholds are on 0..1 factors.
_GOOD = {"similarity": 0.6, "room": 0.7, "colour": 0.7, "style": 0.6}


_PLURALS = {
    "shelf": "shelves", "wall art": "wall art pieces", "wall decor": "wall decor pieces",
    "lighting": "lights", "storage": "storage pieces", "kitchenware": "kitchenware",
    "tableware": "tableware", "bookends": "bookends", "box": "boxes", "bench": "benches",
}


def _plural(word: str) -> str:
    if word in _PLURALS:
        return _PLURALS[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word if word.endswith("s") else word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


# Room labels that don't read as a noun on their own ("suit a outdoor").
_ROOM_NOUNS = {"outdoor": "outdoor space"}


def _a_room(room: str) -> str:
    noun = _ROOM_NOUNS.get(room, room)
    return ("an " if noun.startswith(tuple("aeiou")) else "a ") + noun


def _colour_phrase(record: ProductRecord, scene: SceneAnalysis) -> str | None:
    """Name the scene colour the product's colour relates to most: a near-identical one
    ("echoes") beats a merely harmonious one ("goes with")."""
    best = None
    for name in record.colours:
        h = colour_hex(name)
        if not h:
            continue
        for c in scene.colours[:5]:
            d = colour_distance(h, c.hex)
            score = (2.0 if d < 20 else harmony(h, c.hex)) + c.share
            if best is None or score > best[0]:
                best = (score, name, c.name, d)
    if best is None:
        return None
    _, mine, theirs, d = best
    verb = "echoes" if d < 20 else "goes with"
    return f"its {mine} {verb} the room's {theirs}"


def explain(record: ProductRecord, factors: dict[str, float], scene: SceneAnalysis) -> str:
    room = scene.top("room_type")
    style = scene.top("style")
    parts: list[tuple[float, str]] = []
    if factors["similarity"] >= _GOOD["similarity"]:
        what = "scene and your context" if scene.context else "scene"
        parts.append((factors["similarity"], f"close match to the {what} (cosine {factors['cosine']:.2f})"))
    if record.category and factors["room"] >= _GOOD["room"]:
        parts.append((factors["room"], f"{_plural(record.category)} suit {_a_room(room)}"))
    if factors["colour"] >= _GOOD["colour"]:
        phrase = _colour_phrase(record, scene)
        if phrase:
            parts.append((factors["colour"], phrase))
    if factors["style"] >= _GOOD["style"]:
        parts.append((factors["style"], f"fits the {style} style"))
    if not parts:
        # Nothing stands out: say which factor carried it, honestly.
        best = max(("similarity", "room", "colour", "style"), key=lambda f: factors[f])
        return f"Best available on {best} ({factors[best]:.2f}); no strong fit signal"
    parts.sort(key=lambda p: -p[0])
    text = "; ".join(p for _, p in parts[:3])
    return text[0].upper() + text[1:]
