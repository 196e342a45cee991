"""Catalog reading and description normalising."""

from ._normalize import colour_hex, normalize_description
from ._reader import MAX_ATTRIBUTE_CHARS, MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, REQUIRED_COLUMNS, Catalog, is_url

__all__ = ["Catalog", "REQUIRED_COLUMNS", "MAX_ID_CHARS", "MAX_DESCRIPTION_CHARS", "MAX_ATTRIBUTE_CHARS", "is_url", "colour_hex", "normalize_description"]
