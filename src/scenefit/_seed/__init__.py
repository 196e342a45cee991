"""The seed catalog and living-room photo, shipped inside the package.

`scenefit demo` and `scenefit bench` read them from here, so an installed package runs both
from any folder. They are the same bytes as the repository's ``examples/`` (a test checks);
provenance: examples/README.md.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

#: 500-row wholesale home-décor catalog (CRLF line endings; its image host is unreachable here)
CATALOG = _HERE / "product-catalog.csv"
#: photo of a contemporary living room
PHOTO = _HERE / "living-room.webp"

__all__ = ["CATALOG", "PHOTO"]
