"""Catalog reading and description normalising."""

from ._normalize import colour_hex, normalize_description
from ._reader import Catalog
from ._validate import (IMAGES_COLUMN, MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTES, MAX_DESCRIPTION_CHARS, MAX_ID_CHARS,
                        MAX_IMAGES, REQUIRED_COLUMNS, is_url)

__all__ = ["Catalog", "REQUIRED_COLUMNS", "MAX_ID_CHARS", "MAX_DESCRIPTION_CHARS", "MAX_ATTRIBUTE_CHARS",
           "MAX_ATTRIBUTES", "IMAGES_COLUMN", "MAX_IMAGES", "is_url", "colour_hex", "normalize_description"]
