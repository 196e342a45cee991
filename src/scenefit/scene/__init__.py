"""Scene analysis: room type, style, palette, dominant colours and the query vector."""

from ._analyze import ROOM_PROMPTS, STYLE_PROMPTS, SceneAnalyzer, SceneConfig
from ._colours import PALETTES, dominant_colours, palette_distribution

__all__ = [
    "PALETTES", "ROOM_PROMPTS", "STYLE_PROMPTS", "SceneAnalyzer", "SceneConfig",
    "dominant_colours", "palette_distribution",
]
