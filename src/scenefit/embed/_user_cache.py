"""Where the offline encoder keeps what it derives from its wheels (label embeddings,
exported graphs): ``$SCENEFIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/scenefit``, else
``~/.cache/scenefit``. Read on every call: the environment may change (tests do)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    root = os.environ.get("SCENEFIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "scenefit"
    )
    return Path(root)
