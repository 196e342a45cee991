"""From feedback to labels: the labels file ``scenefit eval`` and ``fit`` read, and the scene
photos it points to.

One line per scene photo (matches of the same photo are merged)::

    {"scene": "labels-scenes/<sha256>.jpg", "room_type": null,
     "relevant": [ids], "irrelevant": [ids], "matches": 3, "events": 5}

Which products are relevant follows :func:`~scenefit.feedback.verdict`. A product shown and
left alone is not labelled either way by default: the shopper may simply not have scrolled to
it. With ``passed_over`` it is irrelevant once, corrected for position bias, shoppers are
expected to have looked at it at least once (``_propensity``).
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .._atomic import atomic_write
from .._errors import ConfigError
from ._events import Event, verdict
from ._propensity import passed_over_products, propensities
from ._store import FeedbackStore


@dataclass
class ExportReport:
    labels: Path
    scenes_dir: Path
    scenes: int  # lines written: photos with at least one labelled product
    relevant: int
    irrelevant: int
    matches: int  # matches read
    events: int  # events read
    passed_over: int = 0  # of the irrelevant: shown, looked at by expectation, and left alone


def export_labels(store: FeedbackStore, out: str | Path, *, since: str | None = None,
                  variant: str | None = None, passed_over: bool = False) -> ExportReport:
    """Write the labels of every match served at or after ``since`` (of one ``variant``, if
    given) to ``out``, and their photos to the folder ``<out stem>-scenes`` beside it.
    ``passed_over``: label products shoppers are expected to have looked at and left alone
    as irrelevant too (only for photos that have a labelled product of their own). Off by
    default: on the simulated shop it measured worse (docs/feedback.md)."""
    out = Path(out)
    scenes_dir = out.parent / f"{out.stem}-scenes"
    matches = {m.match_id: m for m in store.matches(since) if variant is None or m.variant == variant}
    by_pair: dict[tuple[str, str], list[Event]] = defaultdict(list)  # (photo, product) → events
    events_of: dict[str, int] = defaultdict(int)  # photo → events
    read = [e for e in store.events(since) if e.match_id in matches]
    for e in read:
        match = matches[e.match_id]
        by_pair[(match.scene_digest, e.product_id)].append(e.event)
        events_of[match.scene_digest] += 1
    per_photo: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"relevant": set(), "irrelevant": set()})
    for (digest, product), events in by_pair.items():
        fits = verdict(events)
        if fits is not None:
            per_photo[digest]["relevant" if fits else "irrelevant"].add(product)
    n_passed = 0
    if passed_over:
        left = passed_over_products(matches.values(), set(by_pair), propensities(matches.values(), read))
        for digest, products in left.items():
            if digest in per_photo:
                per_photo[digest]["irrelevant"] |= products
                n_passed += len(products)
    seen = defaultdict(int)
    for m in matches.values():
        seen[m.scene_digest] += 1
    scenes_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for digest in sorted(per_photo):
        photo = store.scene_photo(digest)
        if photo is None:  # deleted meanwhile
            continue
        name = f"{digest}.{_extension(photo)}"
        if not (scenes_dir / name).is_file():
            atomic_write(scenes_dir / name, photo)
        labels = per_photo[digest]
        lines.append(json.dumps({
            "scene": f"{scenes_dir.name}/{name}", "room_type": None,
            "relevant": sorted(labels["relevant"]), "irrelevant": sorted(labels["irrelevant"]),
            "matches": seen[digest],
            "events": events_of[digest],
        }))
    if not lines:
        raise ConfigError(f"no feedback to export from {store.where}: no match has events"
                          + (f" since {since}" if since else "") + (f" in variant {variant!r}" if variant else ""))
    atomic_write(out, "\n".join(lines) + "\n")
    return ExportReport(out, scenes_dir, len(lines), sum(len(v["relevant"]) for v in per_photo.values()),
                        sum(len(v["irrelevant"]) for v in per_photo.values()), len(matches), sum(events_of.values()),
                        n_passed)


def _extension(photo: bytes) -> str:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(photo)) as im:
            return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}.get(im.format or "", "img")
    except Exception:  # stored as received; the reader says what is wrong with it
        return "img"
