"""The one vocabulary: room types, styles, product categories, colour names and colour harmony.

Everything else keys off these names (room priors, scene prompts, the catalog's phrase tables)
and checks them at import, so a misspelt name fails loudly instead of matching nothing.
"""

from ._categories import CATEGORIES, require_categories
from ._colours import (COLOURS, NEUTRALS, SCENE_COLOURS, colour_distance, harmony, hex_to_rgb, nearest_name,
                       rgb_to_hex, rgb_to_lab)
from ._rooms import ROOMS, STYLES, require_rooms, require_styles

__all__ = ["CATEGORIES", "COLOURS", "NEUTRALS", "ROOMS", "SCENE_COLOURS", "STYLES", "colour_distance", "harmony",
           "hex_to_rgb", "nearest_name", "require_categories", "require_rooms", "require_styles", "rgb_to_hex",
           "rgb_to_lab"]
