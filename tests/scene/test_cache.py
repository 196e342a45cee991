"""Scene-embedding caches: serialisation, the in-process LRU, and Redis (real server)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from scenefit._types import NamedColour, SceneEmbedding
from scenefit.scene import LRUSceneCache, RedisSceneCache, build_scene_cache
from scenefit.scene._cache import dumps, loads


def _emb(seed: int, regions: bool = True) -> SceneEmbedding:
    rng = np.random.default_rng(seed)
    return SceneEmbedding(rng.normal(size=16).astype(np.float32),
                          rng.normal(size=(14, 12)).astype(np.float32) if regions else None,
                          [NamedColour("beige", "#d8c8a8", 0.4), NamedColour("navy", "#1f2a44", 0.1)])


@pytest.mark.parametrize("regions", [True, False])
def test_round_trip_is_exact(regions):
    emb = _emb(1, regions)
    back = loads(dumps(emb))
    np.testing.assert_array_equal(back.vector, emb.vector)
    assert back.vector.dtype == np.float32
    if regions:
        np.testing.assert_array_equal(back.regions, emb.regions)
    else:
        assert back.regions is None
    assert back.colours == emb.colours
    assert back.windows is None


def test_round_trip_keeps_dense_windows():
    emb = _emb(2)
    emb.windows = np.random.default_rng(3).normal(size=(250, 12)).astype(np.float32)
    back = loads(dumps(emb))
    np.testing.assert_array_equal(back.windows, emb.windows)
    assert back.windows.dtype == np.float32


def test_lru_evicts_the_least_recently_used():
    cache = LRUSceneCache(max_items=2)
    cache.put("a", _emb(1))
    cache.put("b", _emb(2))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _emb(3))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert len(cache) == 2


def test_lru_of_size_zero_keeps_nothing():
    cache = LRUSceneCache(max_items=0)
    cache.put("a", _emb(1))
    assert cache.get("a") is None


def test_redis_cache_is_shared_between_clients(redis_url):
    key = uuid.uuid4().hex
    writer, reader = RedisSceneCache(redis_url, ttl_s=60), RedisSceneCache(redis_url, ttl_s=60)
    assert reader.get(key) is None
    writer.put(key, _emb(5))
    got = reader.get(key)
    np.testing.assert_array_equal(got.vector, _emb(5).vector)
    ttl = reader._redis.ttl(RedisSceneCache.PREFIX + key)
    assert 0 < ttl <= 60
    reader._redis.delete(RedisSceneCache.PREFIX + key)


def test_unreachable_redis_degrades_to_misses():
    cache = RedisSceneCache("redis://127.0.0.1:1/0")
    cache.put("k", _emb(1))  # no exception
    assert cache.get("k") is None and cache.ping() is False


def test_build_picks_redis_only_with_a_url(redis_url):
    assert isinstance(build_scene_cache(None), LRUSceneCache)
    assert isinstance(build_scene_cache(redis_url), RedisSceneCache)


def test_lru_put_refreshes_and_replaces():
    cache = LRUSceneCache(max_items=2)
    cache.put("a", _emb(1))
    cache.put("b", _emb(2))
    cache.put("a", _emb(4))  # a again: replaced and now the most recent
    cache.put("c", _emb(3))
    assert cache.get("b") is None
    np.testing.assert_array_equal(cache.get("a").vector, _emb(4).vector)


def test_lru_is_safe_under_threads():
    from concurrent.futures import ThreadPoolExecutor

    cache = LRUSceneCache(max_items=8)
    emb = _emb(1)

    def work(i: int) -> None:
        for j in range(300):
            cache.put(f"{i}-{j % 20}", emb)
            cache.get(f"{(i + 1) % 4}-{j % 20}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert len(cache) == 8
