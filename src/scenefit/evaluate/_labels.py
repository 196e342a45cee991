"""Labelled scenes: which catalog products appear in which room photo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .._errors import CatalogError


@dataclass(frozen=True)
class LabelledScene:
    scene: str  # the path as written in the labels file
    path: Path  # resolved against the labels file's folder
    room_type: str | None
    relevant: frozenset[str]
    #: products judged not to fit (feedback: dismissed, or a curator's "irrelevant")
    irrelevant: frozenset[str] = frozenset()


def read_labels(path: str | Path) -> list[LabelledScene]:
    """Read a labels JSONL file: ``{"scene": …, "room_type": …, "relevant": [ids]}`` per line,
    optionally with ``"irrelevant": [ids]`` (what ``scenefit feedback export`` writes)."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: no such labels file")
    scenes = []
    for n, line in enumerate(path.read_text("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("scene"), str):
            raise CatalogError(f"{path}:{n}: each line needs a \"scene\" path")
        relevant, irrelevant = obj.get("relevant") or [], obj.get("irrelevant") or []
        for name, ids in (("relevant", relevant), ("irrelevant", irrelevant)):
            if not isinstance(ids, list):
                raise CatalogError(f"{path}:{n}: \"{name}\" must be a list of product ids")
        scene_path = Path(obj["scene"])
        scenes.append(LabelledScene(
            scene=obj["scene"],
            path=scene_path if scene_path.is_absolute() else path.parent / scene_path,
            room_type=_room_name(obj.get("room_type")),
            relevant=frozenset(str(r) for r in relevant),
            irrelevant=frozenset(str(r) for r in irrelevant) - frozenset(str(r) for r in relevant),
        ))
    if not scenes:
        raise CatalogError(f"{path}: the labels file has no scenes")
    return scenes


def _room_name(value) -> str | None:
    """"Living_Room" and "living room" are one room type (the room priors use the latter)."""
    if not value:
        return None
    return " ".join(str(value).replace("_", " ").replace("-", " ").lower().split())
