"""EmbeddingCache: the SQLite (model id, content hash) → vector store."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from scenefit.embed import EmbeddingCache


def _vecs(n: int, dim: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"h{i:05d}": rng.standard_normal(dim).astype(np.float32) for i in range(n)}


@pytest.fixture
def cache(tmp_path):
    with EmbeddingCache(tmp_path / "sub" / "embeddings.sqlite") as c:
        yield c


def test_round_trip_is_exact_float32(cache):
    items = _vecs(5)
    # Values float32 can hold exactly but a float16 or text round trip could not.
    items["special"] = np.array([1e-38, -3.4e38, np.pi, 1 / 3, 0.0, -0.0, 1e-45, 7.0], np.float32)
    cache.put_many("m1", items)
    got = cache.get_many("m1", list(items))
    assert set(got) == set(items)
    for h, v in items.items():
        assert got[h].dtype == np.float32
        assert got[h].shape == v.shape
        np.testing.assert_array_equal(got[h], v)
        assert got[h].tobytes() == v.tobytes()  # bit-exact, signed zero included


def test_float64_input_is_stored_as_float32(cache):
    v = np.array([0.1, 0.2, 0.3], dtype=np.float64)
    cache.put_many("m", {"a": v})
    got = cache.get_many("m", ["a"])["a"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, v.astype(np.float32))


def test_keys_are_separated_by_model_id(cache):
    cache.put_many("model-a", {"same-hash": np.ones(4, np.float32)})
    cache.put_many("model-b", {"same-hash": np.full(4, 2.0, np.float32)})
    np.testing.assert_array_equal(cache.get_many("model-a", ["same-hash"])["same-hash"], np.ones(4))
    np.testing.assert_array_equal(cache.get_many("model-b", ["same-hash"])["same-hash"], np.full(4, 2.0))
    assert cache.get_many("model-c", ["same-hash"]) == {}


def test_put_replaces_existing(cache):
    cache.put_many("m", {"a": np.zeros(3, np.float32)})
    cache.put_many("m", {"a": np.ones(3, np.float32)})
    np.testing.assert_array_equal(cache.get_many("m", ["a"])["a"], np.ones(3))
    assert cache.count("m") == 1


def test_missing_keys_are_absent(cache):
    cache.put_many("m", _vecs(3))
    got = cache.get_many("m", ["h00000", "nope", "h00002", "also-missing"])
    assert set(got) == {"h00000", "h00002"}
    assert cache.get_many("m", []) == {}


def test_duplicate_request_keys(cache):
    cache.put_many("m", _vecs(2))
    got = cache.get_many("m", ["h00001", "h00001", "h00000"])
    assert set(got) == {"h00000", "h00001"}


def test_many_keys_in_one_call_are_chunked(cache):
    # Emulate an old SQLite build (999 bound parameters at most; new ones allow 32766), so
    # an unchunked query fails here too. 2,500 keys span three chunks.
    cache._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    items = _vecs(2500, dim=4)
    cache.put_many("m", items)
    keys = list(items) + [f"missing{i}" for i in range(300)]
    got = cache.get_many("m", keys)
    assert len(got) == 2500
    for h in ("h00000", "h00899", "h00900", "h01799", "h01800", "h02499"):  # chunk edges
        np.testing.assert_array_equal(got[h], items[h])


def test_count(cache):
    assert cache.count() == 0
    cache.put_many("a", _vecs(3))
    cache.put_many("b", _vecs(2))
    assert cache.count() == 5
    assert cache.count("a") == 3
    assert cache.count("b") == 2
    assert cache.count("c") == 0


def test_persists_across_reopen(tmp_path):
    path = tmp_path / "embeddings.sqlite"
    items = _vecs(10)
    with EmbeddingCache(path) as c:
        c.put_many("m", items)
    with EmbeddingCache(path) as c:
        assert c.count() == 10
        got = c.get_many("m", list(items))
    assert set(got) == set(items)
    for h, v in items.items():
        np.testing.assert_array_equal(got[h], v)


def test_wrong_length_vectors_are_ignored(tmp_path):
    path = tmp_path / "embeddings.sqlite"
    with EmbeddingCache(path) as c:
        c.put_many("m", {"good": np.arange(4, dtype=np.float32)})
    # Damage rows behind the cache's back: dim disagrees with the blob, and a blob whose
    # size is not even a whole number of float32s (a torn write).
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO embeddings (model_id, content_hash, dim, vector) VALUES (?, ?, ?, ?)",
            [
                ("m", "short", 4, np.arange(3, dtype=np.float32).tobytes()),
                ("m", "long", 4, np.arange(5, dtype=np.float32).tobytes()),
                ("m", "torn", 4, np.arange(4, dtype=np.float32).tobytes()[:7]),
                ("m", "empty", 4, b""),
            ],
        )
    db.close()
    with EmbeddingCache(path) as c:
        got = c.get_many("m", ["good", "short", "long", "torn", "empty"])
    assert set(got) == {"good"}
    np.testing.assert_array_equal(got["good"], np.arange(4))
