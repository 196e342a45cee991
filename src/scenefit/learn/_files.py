"""Fitted models saved in an index folder as one ``.npz``: their arrays plus a JSON ``meta``
entry that carries a format version (the room model, the appearance adapter). Written through
:func:`scenefit._atomic.atomic_path`, so a reader never sees half a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from .._atomic import atomic_path

T = TypeVar("T")


def save_fitted(folder: Path, name: str, version: int, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    path = Path(folder) / name
    with atomic_path(path) as tmp, tmp.open("wb") as fh:  # a file object: np.savez renames paths
        np.savez(fh, **arrays, meta=np.array(json.dumps({"format_version": version, **meta})))
    return path


def load_fitted(folder: Path, name: str, version: int, build: Callable[[dict[str, np.ndarray], dict], T]) -> T | None:
    """``build(arrays, meta)``, or None when there is no such file or it has another format
    version."""
    path = Path(folder) / name
    if not path.is_file():
        return None
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("format_version") != version:
            return None
        return build({k: data[k] for k in data.files if k != "meta"}, meta)
