"""Product records kept in memory after a lookup: a bounded, thread-safe LRU by vector key.

Serving threads read it concurrently with a writer's updates (``scenefit._lru``)."""

from __future__ import annotations

from typing import Iterable, Sequence

from .._lru import LockedLRU
from ._product import ProductRecord


class RecordCache:
    """Records by key, least recently used dropped first beyond ``maxsize``."""

    def __init__(self, maxsize: int | None):
        self._lru: LockedLRU[int, ProductRecord] = LockedLRU(maxsize)

    def __len__(self) -> int:
        return len(self._lru)

    def __contains__(self, key: int) -> bool:
        return int(key) in self._lru

    def get_many(self, keys: Sequence[int]) -> list[ProductRecord | None]:
        """Records of ``keys`` in order (None where not cached); each hit becomes the most recent."""
        return self._lru.get_many(int(k) for k in keys)

    def put(self, records: Iterable[tuple[int, ProductRecord]]) -> None:
        self._lru.put_many((int(key), rec) for key, rec in records)

    def discard(self, keys: Iterable[int]) -> None:
        self._lru.discard(int(k) for k in keys)

    def unbounded(self) -> None:
        """Keep every record from now on (a writer comparing the whole catalog)."""
        self._lru.resize(None)
