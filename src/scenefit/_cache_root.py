"""The user cache folder, resolved in one place with one layout.

``$SCENEFIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/scenefit``, else ``~/.cache/scenefit``. Inside
it every component keeps its own sub-folder or file name (``images/``, ``onnx/``, the label
embeddings), so moving the cache moves all of it and no two components share a name.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "SCENEFIT_CACHE_DIR"


def cache_root() -> Path:
    """The folder the user cache lives in (read from the environment at each call)."""
    if env := os.environ.get(ENV, "").strip():
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "scenefit"
