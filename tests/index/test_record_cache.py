"""The record LRU: bounded, least recently used dropped first, safe across threads."""

from __future__ import annotations

import threading

from scenefit.index import ProductRecord, RecordCache


def _rec(key: int) -> ProductRecord:
    return ProductRecord(str(key), "s", "d", None, "t", None, [], [], "h", "none", key=key)


def test_bounded_and_a_lookup_refreshes_recency():
    cache = RecordCache(2)
    cache.put([(1, _rec(1)), (2, _rec(2))])
    assert [r.id for r in cache.get_many([1])] == ["1"]  # 1 is now the most recent
    cache.put([(3, _rec(3))])
    assert [r.id if r else None for r in cache.get_many([1, 2, 3])] == ["1", None, "3"]
    assert len(cache) == 2


def test_discard_and_unbounded():
    cache = RecordCache(1)
    cache.put([(1, _rec(1))])
    cache.discard([1, 99])
    assert len(cache) == 0 and cache.get_many([1]) == [None]
    cache.unbounded()
    cache.put((k, _rec(k)) for k in range(100))
    assert len(cache) == 100 and 50 in cache


def test_concurrent_readers_and_writers_keep_it_consistent():
    cache = RecordCache(50)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(2000):
                key = (offset + i) % 200
                cache.put([(key, _rec(key))])
                got = cache.get_many([key, (key + 1) % 200])
                assert got[0] is None or got[0].key == key
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50
