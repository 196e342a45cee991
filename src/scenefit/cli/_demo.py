"""Where the bundled demo data lives."""

from __future__ import annotations

from pathlib import Path

from .._errors import ConfigError

_CATALOG = "product-catalog.csv"
_PHOTO = "living-room.webp"


def demo_files() -> tuple[Path, Path]:
    """The seed catalog and living-room photo from the repository's ``examples/`` folder.

    Looked up in the current directory first, then beside the source tree (editable installs).
    """
    for root in (Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples"):
        catalog, photo = root / _CATALOG, root / _PHOTO
        if catalog.is_file() and photo.is_file():
            return catalog, photo
    raise ConfigError(
        "demo data not found: run `scenefit demo` from the scenefit repository "
        "(it needs examples/product-catalog.csv and examples/living-room.webp)"
    )
