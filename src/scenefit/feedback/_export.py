"""From feedback to labels: the labels file ``scenefit eval`` and ``fit`` read, and the scene
photos it points to.

One line per scene photo (matches of the same photo are merged)::

    {"scene": "labels-scenes/<sha256>.jpg", "room_type": null,
     "relevant": [ids], "irrelevant": [ids], "matches": 3, "events": 5}

Which products are relevant follows :func:`~scenefit.feedback.verdict`. Products shown and
ignored are not labelled either way: position bias makes an ignored pick a weak signal, and
the shopper may simply not have scrolled to it.
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


def export_labels(store: FeedbackStore, out: str | Path, *, since: str | None = None,
                  variant: str | None = None) -> ExportReport:
    """Write the labels of every match served at or after ``since`` (of one ``variant``, if
    given) to ``out``, and their photos to the folder ``<out stem>-scenes`` beside it."""
    out = Path(out)
    scenes_dir = out.parent / f"{out.stem}-scenes"
    matches = {m.match_id: m for m in store.matches(since) if variant is None or m.variant == variant}
    by_pair: dict[tuple[str, str], list[Event]] = defaultdict(list)  # (photo, product) → events
    events_of: dict[str, int] = defaultdict(int)  # photo → events
    for e in store.events(since):
        match = matches.get(e.match_id)
        if match is not None:
            by_pair[(match.scene_digest, e.product_id)].append(e.event)
            events_of[match.scene_digest] += 1
    per_photo: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"relevant": set(), "irrelevant": set()})
    for (digest, product), events in by_pair.items():
        fits = verdict(events)
        if fits is not None:
            per_photo[digest]["relevant" if fits else "irrelevant"].add(product)
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
                        sum(len(v["irrelevant"]) for v in per_photo.values()), len(matches), sum(events_of.values()))


def _extension(photo: bytes) -> str:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(photo)) as im:
            return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}.get(im.format or "", "img")
    except Exception:  # stored as received; the reader says what is wrong with it
        return "img"
