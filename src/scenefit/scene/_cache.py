"""A cache of scene embeddings keyed by the photo's content hash.

The same photo sent twice (a user trying several contexts or filters, a page reloaded)
costs one model pass. In-process LRU by default; Redis (``SCENEFIT_REDIS_URL``) lets
every serving process share it.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .._errors import ConfigError
from .._lru import LockedLRU
from .._hashing import file_sha256
from .._types import NamedColour, SceneEmbedding

if TYPE_CHECKING:
    from ._analyze import SceneConfig


class SceneCache(Protocol):
    def get(self, key: str) -> SceneEmbedding | None: ...

    def put(self, key: str, value: SceneEmbedding) -> None: ...


def photo_digest(scene: object) -> str | None:
    """The content hash of a scene given as encoded bytes or a file; None for a decoded image
    (its encoded form is gone, and hashing pixels would cost more than it saves)."""
    if isinstance(scene, bytes):
        return hashlib.sha256(scene).hexdigest()
    if isinstance(scene, (str, Path)):
        return file_sha256(Path(scene))
    return None


def scene_cache_key(scene_model: str, config: "SceneConfig", digest: str) -> str:
    """The cache key of a photo's embedding. What makes scene vectors (the scene model, which
    names the runtime precision too) and the analysis settings are part of it: another index,
    runtime or config must never be served this one's embedding."""
    return hashlib.sha256(f"{scene_model}|{config.model_dump_json()}|{digest}".encode()).hexdigest()


def dumps(emb: SceneEmbedding) -> bytes:
    buf = io.BytesIO()
    arrays = {"vector": emb.vector}
    if emb.regions is not None:
        arrays["regions"] = emb.regions
    if emb.windows is not None:
        arrays["windows"] = emb.windows
    colours = json.dumps([[c.name, c.hex, c.share] for c in emb.colours])
    np.savez(buf, colours=np.frombuffer(colours.encode(), np.uint8), **arrays)
    return buf.getvalue()


def loads(data: bytes) -> SceneEmbedding:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        colours = [NamedColour(n, h, float(s)) for n, h, s in json.loads(z["colours"].tobytes())]
        regions = z["regions"].astype(np.float32) if "regions" in z.files else None
        windows = z["windows"].astype(np.float32) if "windows" in z.files else None
        return SceneEmbedding(z["vector"].astype(np.float32), regions, colours, windows)


class LRUSceneCache:
    """In-process, thread-safe, bounded by entry count (``scenefit._lru``); 0 keeps nothing."""

    def __init__(self, max_items: int = 256):
        self.max_items = max_items
        self._items: LockedLRU[str, SceneEmbedding] | None = LockedLRU(max_items) if max_items > 0 else None

    def get(self, key: str) -> SceneEmbedding | None:
        return None if self._items is None else self._items.get(key)

    def put(self, key: str, value: SceneEmbedding) -> None:
        if self._items is not None:
            self._items.put(key, value)

    def __len__(self) -> int:
        return 0 if self._items is None else len(self._items)


class RedisSceneCache:
    """Shared by every serving process; entries expire after ``ttl_s``.

    A Redis outage degrades to cache misses (the match is computed), never to a failed
    request: the cache is an optimisation.
    """

    PREFIX = "scenefit:scene:"

    def __init__(self, url: str, ttl_s: int = 24 * 3600):
        try:
            import redis
        except ImportError:
            raise ConfigError("SCENEFIT_REDIS_URL needs the redis package: pip install 'scenefit[redis]'") from None
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors = (redis.RedisError, OSError)
        self.ttl_s = ttl_s

    def get(self, key: str) -> SceneEmbedding | None:
        try:
            data = self._redis.get(self.PREFIX + key)
        except self._errors:
            return None
        return None if data is None else loads(data)

    def put(self, key: str, value: SceneEmbedding) -> None:
        try:
            self._redis.set(self.PREFIX + key, dumps(value), ex=self.ttl_s)
        except self._errors:
            pass

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False


def build_scene_cache(redis_url: str | None, max_items: int = 256) -> SceneCache:
    return RedisSceneCache(redis_url) if redis_url else LRUSceneCache(max_items)
