"""The same behaviour from both VectorSpace implementations (FAISS files, Milvus Lite):
add, remove, search with filters, commit, and reopening what was committed."""

from __future__ import annotations

import numpy as np
import pytest

from scenefit import ConfigError
from scenefit.index import Filters, ProductRecord, VectorIndex, VectorSpace


def _rec(i: str, category: str, price: str | None = None, brand: str = "acme") -> ProductRecord:
    attrs = {"Brand": brand, **({"price": price} if price is not None else {})}
    return ProductRecord(i, f"sku-{i}", f"item {i}", None, f"item {i}", category, [], [], f"h{i}", "none", attrs)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.fixture(params=["faiss", "milvus"])
def create(request, tmp_path):
    store = None
    if request.param == "milvus":
        pytest.importorskip("pymilvus")
        pytest.importorskip("milvus_lite")
        store = str(tmp_path / "vectors.db")

    def make() -> VectorIndex:
        return VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3,
                                  vector_store=store)
    return make


def _ids(index: VectorIndex, keys) -> list[str]:
    return [index.record(int(k)).id for k in keys]


def test_add_search_filter_remove_commit(create):
    index = create()
    assert isinstance(index._space, VectorSpace) and isinstance(index.appearance, VectorSpace)
    records = [_rec("a", "vase", "12.50"), _rec("b", "vase", "40", brand="Zeta"), _rec("c", "lamp", "15"),
               _rec("d", "bowl")]
    vectors = _unit([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0], [0, 0, 0, 1]])
    looks = {"a": _unit([1, 0, 0]), "c": _unit([0.9, 0.1, 0])}  # b and d have no photo
    index.upsert(records, vectors, looks)
    assert all(r.key == -1 for r in records)  # the index keyed copies, not the caller's records
    index.save()

    again = VectorIndex.open(index.path)
    q = _unit([1, 0, 0, 0])
    keys, scores = again.search(q, 10)
    assert _ids(again, keys)[:3] == ["a", "b", "c"] and list(scores) == sorted(scores, reverse=True)
    keys, _ = again.search(q, 10, Filters.parse(category=["VASE"]))
    assert _ids(again, keys) == ["a", "b"]
    keys, _ = again.search(q, 10, Filters.parse(where=["brand=zeta"]))
    assert _ids(again, keys) == ["b"]
    keys, _ = again.search(q, 10, Filters.parse(price_min=10, price_max=20))
    assert _ids(again, keys) == ["a", "c"]  # d has no price: it fails a price range
    keys, _ = again.search(q, 10, Filters.parse(where=["brand=nobody"]))
    assert len(keys) == 0
    with pytest.raises(ConfigError, match="unknown filter field"):
        again.search(q, 10, Filters.parse(where=["colour=red"]))

    looks_q = _unit([[1, 0, 0]])
    assert sorted(_ids(again, again.appearance.nearest(looks_q, 10))) == ["a", "c"]
    spec = again.resolve(Filters.parse(category=["lamp"]))
    assert _ids(again, again.appearance.nearest(looks_q, 10, spec)) == ["c"]

    assert again.delete(["a"]) == 1
    again.upsert([_rec("e", "vase", "18")], _unit([[1, 0, 0, 0.01]]), {"e": _unit([1, 0, 0])})
    again.save()
    third = VectorIndex.open(index.path)
    keys, _ = third.search(q, 10, Filters.parse(category=["vase"]))
    assert _ids(third, keys) == ["e", "b"]
    assert sorted(_ids(third, third.appearance.nearest(looks_q, 10))) == ["c", "e"]
    assert third.get("a") is None and len(third) == 4 and len(third.appearance) == 2


def test_milvus_filters_are_pushed_down_without_reading_the_catalog(tmp_path, monkeypatch):
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    index = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, vector_store=str(tmp_path / "v.db"))
    index.upsert([_rec("a", "vase"), _rec("b", "lamp")], _unit([[1, 0, 0, 0], [0.9, 0.1, 0, 0]]))
    index.save()
    again = VectorIndex.open(index.path)

    def no_scan(self, *args, **kwargs):
        raise AssertionError("a Milvus filter must not read every record")

    monkeypatch.setattr(VectorIndex, "records", no_scan)
    monkeypatch.setattr(VectorIndex, "columns", property(no_scan))
    keys, _ = again.search(_unit([1, 0, 0, 0]), 10, Filters.parse(category=["lamp"]))
    assert _ids(again, keys) == ["b"]
