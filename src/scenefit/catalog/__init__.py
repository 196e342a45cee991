"""Catalog reading and description normalising."""

from ._normalize import colour_hex, normalize_description
from ._reader import REQUIRED_COLUMNS, Catalog

__all__ = ["Catalog", "REQUIRED_COLUMNS", "colour_hex", "normalize_description"]
