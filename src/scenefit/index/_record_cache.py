"""Product records kept in memory after a lookup: a bounded, thread-safe LRU."""

from __future__ import annotations

import math
import threading
from typing import Iterable, Sequence

from cachetools import LRUCache

from ._product import ProductRecord


class RecordCache:
    """Records by key, least recently used dropped first beyond ``maxsize``.

    Serving threads read it concurrently with a writer's updates, so every access holds one
    lock (cachetools caches are not thread-safe; a lookup reorders them)."""

    def __init__(self, maxsize: int | None):
        self._lock = threading.Lock()
        self._cache: LRUCache = LRUCache(math.inf if maxsize is None else maxsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def __contains__(self, key: int) -> bool:
        with self._lock:
            return key in self._cache

    @property
    def maxsize(self) -> float:
        return self._cache.maxsize

    def get_many(self, keys: Sequence[int]) -> list[ProductRecord | None]:
        """Records of ``keys`` in order (None where not cached); each hit becomes the most recent."""
        with self._lock:
            return [self._cache.get(int(k)) for k in keys]

    def put(self, records: Iterable[tuple[int, ProductRecord]]) -> None:
        with self._lock:
            for key, rec in records:
                self._cache[int(key)] = rec

    def discard(self, keys: Iterable[int]) -> None:
        with self._lock:
            for key in keys:
                self._cache.pop(int(key), None)

    def unbounded(self) -> None:
        """Keep every record from now on (a writer comparing the whole catalog)."""
        with self._lock:
            grown: LRUCache = LRUCache(math.inf)
            grown.update(self._cache)
            self._cache = grown
