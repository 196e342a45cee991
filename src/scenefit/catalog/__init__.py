"""Catalog reading and description normalising."""

from ._normalize import colour_hex, normalize_description
from ._reader import REQUIRED_COLUMNS, Catalog, is_url

__all__ = ["Catalog", "REQUIRED_COLUMNS", "is_url", "colour_hex", "normalize_description"]
