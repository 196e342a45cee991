"""A bounded least-recently-used map that threads can share: cachetools' LRUCache behind one
lock. cachetools caches are not thread-safe, and a read reorders them too, so every access,
reads included, holds the lock. ``maxsize`` None keeps everything."""

from __future__ import annotations

import math
import threading
from typing import Generic, Hashable, Iterable, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LockedLRU(Generic[K, V]):
    def __init__(self, maxsize: int | None):
        self._lock = threading.Lock()
        self._cache: LRUCache = LRUCache(math.inf if maxsize is None else maxsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._cache

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None when absent."""
        with self._lock:
            return self._cache.get(key)

    def get_many(self, keys: Iterable[K]) -> list[V | None]:
        with self._lock:
            return [self._cache.get(k) for k in keys]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._cache[key] = value

    def put_many(self, items: Iterable[tuple[K, V]]) -> None:
        with self._lock:
            for key, value in items:
                self._cache[key] = value

    def discard(self, keys: Iterable[K]) -> None:
        with self._lock:
            for key in keys:
                self._cache.pop(key, None)

    def resize(self, maxsize: int | None) -> None:
        """Bound it anew (None: unbounded), keeping the entries the new bound allows."""
        with self._lock:
            grown: LRUCache = LRUCache(math.inf if maxsize is None else maxsize)
            for key, value in self._cache.items():
                grown[key] = value
            self._cache = grown
