"""One-line, factor-based explanations of a pick."""

from __future__ import annotations

from ..taxonomy import NEUTRALS, colour_distance, harmony
from .._types import SceneAnalysis
from ..catalog import colour_hex
from ..index import ProductRecord
from ._factors import Factor

# A factor is worth mentioning when it is clearly good. similarity is a catalog percentile
# (0.9 = closer to the scene than 90% of products); style needs to be high because most
# products agree with a scene's leading style a little.
_GOOD = {Factor.SIMILARITY: 0.9, Factor.APPEARANCE: 0.9, Factor.ROOM: 0.7, Factor.COLOUR: 0.7, Factor.STYLE: 0.75}


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
    """Name the scene colour the product's colour relates to most, when the relation is
    worth saying: a near-identical colour ("echoes") or a harmonious chromatic one ("goes
    with"). A neutral that merely doesn't clash is not an argument, so it is not mentioned."""
    best = None
    for name in record.colours:
        h = colour_hex(name)
        if not h:
            continue
        for c in scene.colours[:5]:
            d = colour_distance(h, c.hex)
            if d < 20:
                score, verb = 2.0 + c.share, "echoes"
            elif name not in NEUTRALS and c.name not in NEUTRALS and harmony(h, c.hex) >= 0.75:
                score, verb = 1.0 + c.share, "goes with"
            else:
                continue
            if best is None or score > best[0]:
                best = (score, f"its {name} {verb} the room's {c.name}")
    return None if best is None else best[1]


def explain(record: ProductRecord, factors: dict[str, float], scene: SceneAnalysis) -> str:
    room = scene.top_room
    style = scene.top_style
    parts: list[tuple[float, str]] = []
    if factors[Factor.SIMILARITY] >= _GOOD[Factor.SIMILARITY]:
        what = "scene and your context" if scene.context else "scene"
        top = max(1, round((1 - factors[Factor.SIMILARITY]) * 100))
        parts.append((factors[Factor.SIMILARITY], f"among the {top}% of products closest to the {what}"))
    if factors.get(Factor.APPEARANCE, 0.0) >= _GOOD[Factor.APPEARANCE]:
        top = max(1, round((1 - factors[Factor.APPEARANCE]) * 100))
        parts.append((factors[Factor.APPEARANCE], f"its photo resembles part of the scene (top {top}% of photos)"))
    if record.category and factors[Factor.ROOM] >= _GOOD[Factor.ROOM]:
        parts.append((factors[Factor.ROOM], f"{_plural(record.category)} suit {_a_room(room)}"))
    if factors[Factor.COLOUR] >= _GOOD[Factor.COLOUR]:
        phrase = _colour_phrase(record, scene)
        if phrase:
            parts.append((factors[Factor.COLOUR], phrase))
    if factors[Factor.STYLE] >= _GOOD[Factor.STYLE]:
        parts.append((factors[Factor.STYLE], f"fits the {style} style"))
    if not parts:
        # Nothing stands out: say which factor carried it, honestly.
        best = max((Factor.SIMILARITY, Factor.ROOM, Factor.COLOUR, Factor.STYLE), key=lambda f: factors[f])
        return f"Best available on {best} ({factors[best]:.2f}); no strong fit signal"
    parts.sort(key=lambda p: -p[0])
    text = "; ".join(p for _, p in parts[:3])
    return text[0].upper() + text[1:]
