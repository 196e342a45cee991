"""Scene analysis: room type, style, palette, dominant colours and the query vector."""

from ._cache import LRUSceneCache, RedisSceneCache, SceneCache, build_scene_cache, photo_digest, scene_cache_key
from ._analyze import ROOM_PROMPTS, STYLE_PROMPTS, SceneAnalyzer, SceneConfig, regions_for
from ._photo import MIN_SCENE_SIDE, read_scene
from ._windows import DENSE_SHORT_SIDE
from ._palette import PALETTES, dominant_colours, palette_distribution
from ._rooms import RoomClassifier, classified_rooms, room_features

__all__ = [
    "PALETTES", "ROOM_PROMPTS", "RoomClassifier", "classified_rooms", "room_features", "STYLE_PROMPTS", "SceneAnalyzer", "SceneConfig", "regions_for",
    "dominant_colours", "palette_distribution", "LRUSceneCache", "RedisSceneCache", "SceneCache",
    "build_scene_cache", "photo_digest", "scene_cache_key", "MIN_SCENE_SIDE", "DENSE_SHORT_SIDE", "read_scene",
]
