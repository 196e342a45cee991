"""The one vocabulary: room types, product categories, colour names and colour harmony."""

from ._colours import NEUTRALS, SCENE_COLOURS, colour_distance, harmony, hex_to_rgb, nearest_name, rgb_to_hex, rgb_to_lab

__all__ = ["NEUTRALS", "SCENE_COLOURS", "colour_distance", "harmony", "hex_to_rgb", "nearest_name", "rgb_to_hex",
           "rgb_to_lab"]
