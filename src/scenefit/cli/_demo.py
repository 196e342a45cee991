"""Where the bundled demo data lives."""

from __future__ import annotations

from pathlib import Path

from .. import _seed
from .._errors import ConfigError


def demo_files() -> tuple[Path, Path]:
    """The seed catalog and living-room photo shipped inside the package (any install, any folder)."""
    catalog, photo = _seed.CATALOG, _seed.PHOTO
    if not (catalog.is_file() and photo.is_file()):
        raise ConfigError(
            f"demo data not found in {catalog.parent}: this scenefit install lacks its package data "
            "(reinstall it; a wheel or `pip install .` includes them)"
        )
    return catalog, photo
