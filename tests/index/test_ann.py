"""Index kinds: exact while small, IVF above; tuned, persisted, and correct under writes."""

from __future__ import annotations

import numpy as np
import pytest

from scenefit.index import Filters, ProductRecord, VectorIndex
from scenefit.index._ann import AnnConfig, nlist_for, wanted_kind


def _rec(i: int) -> ProductRecord:
    return ProductRecord(id=f"p{i}", sku_id="", description=f"item {i}", image=None, text=f"item {i}",
                         category="vase" if i % 3 else "lamp", colours=[], materials=[],
                         content_hash=f"h{i}", image_status="none")


def _clustered(n: int, d: int = 32, centres: int = 40, seed: int = 0) -> np.ndarray:
    """Products in kinds: unit vectors around a few dozen centres (not uniform noise)."""
    c = np.random.default_rng(1234 + d).standard_normal((centres, d)).astype(np.float32)  # the same kinds
    rng = np.random.default_rng(seed)
    x = c[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _build(tmp_path, n=3000, **config) -> tuple[VectorIndex, np.ndarray]:
    x = _clustered(n)
    index = VectorIndex.create(tmp_path / "ix", model_id="m", dim=x.shape[1], encoder={},
                               ann=AnnConfig(**config))
    index.upsert([_rec(i) for i in range(n)], x)
    index.save()
    return index, x


def test_auto_choice_by_size():
    cfg = AnnConfig(flat_max=1000)
    assert wanted_kind(1000, cfg) == "flat" and wanted_kind(1001, cfg) == "ivf"
    assert wanted_kind(10, AnnConfig(kind="ivf")) == "ivf"
    assert nlist_for(1_000_000) == 4096 and nlist_for(100_000) == 1024


def test_ivf_is_tuned_recorded_and_close_to_exact(tmp_path):
    index, x = _build(tmp_path, flat_max=1000, target_recall=0.95)
    spec = index.manifest.ann
    assert spec.kind == "ivf" and spec.nlist > 1 and 1 <= spec.nprobe <= spec.nlist
    assert spec.tuned_recall >= 0.95 and spec.trained_on == 3000
    again = VectorIndex.open(index.path)
    assert again.manifest.ann == spec and again._space._faiss.nprobe == spec.nprobe
    queries = _clustered(100, seed=7)
    hits = 0
    for q in queries:
        exact = np.argsort(-(x @ q))[:10]
        keys, scores = again.search(q, 10)
        hits += len({again.record(int(k)).id for k in keys} & {f"p{i}" for i in exact})
        np.testing.assert_allclose(scores, np.sort(x @ q)[::-1][:10][: len(scores)], atol=0.05)
    assert hits / 1000 >= 0.9


def test_ivf_upsert_delete_and_reconstruct(tmp_path):
    index, x = _build(tmp_path, kind="ivf")
    assert index.manifest.ann.kind == "ivf"
    key = index.get("p5").key
    np.testing.assert_allclose(index.vectors([key])[0], x[5], atol=2e-3)  # fp16 lists
    index.delete(["p5"])
    new = _clustered(1, seed=99)
    index.upsert([_rec(5)], new)  # back, with another vector
    index.save()
    again = VectorIndex.open(index.path)
    keys, scores = again.search(new[0], 1)
    assert again.record(int(keys[0])).id == "p5" and scores[0] == pytest.approx(1.0, abs=2e-3)
    assert len(again) == 3000


@pytest.mark.parametrize("share", [0.01, 0.5])
def test_ivf_filtered_search_stays_inside_the_filter(tmp_path, share):
    index, x = _build(tmp_path, kind="ivf")
    rng = np.random.default_rng(1)
    allowed_rows = np.sort(rng.choice(3000, size=int(3000 * share), replace=False))
    allowed = np.asarray([index.get(f"p{i}").key for i in allowed_rows], np.int64)
    q = _clustered(1, seed=3)[0]
    keys, _ = index.search(q, 10, Filters(attributes={"id": [f"p{i}" for i in allowed_rows]}))
    assert len(keys) == 10 and set(keys.tolist()) <= set(allowed.tolist())
    if share == 0.01:  # a small filter is scored exactly: the true top 10 of the subset
        best = allowed_rows[np.argsort(-(x[allowed_rows] @ q))[:10]]
        assert [index.record(int(k)).id for k in keys] == [f"p{i}" for i in best]


def test_index_goes_back_to_exact_when_it_shrinks(tmp_path):
    index, _ = _build(tmp_path, n=1500, flat_max=1000)
    assert index.manifest.ann.kind == "ivf"
    index.delete([f"p{i}" for i in range(600)])
    index.save()
    assert VectorIndex.open(index.path).manifest.ann.kind == "flat"


def test_appearance_space_follows_the_same_choice(tmp_path):
    x = _clustered(1500)
    looks = _clustered(1500, d=24, seed=5)
    index = VectorIndex.create(tmp_path / "ix", model_id="m", dim=32, encoder={}, appearance_dim=24,
                               ann=AnnConfig(flat_max=1000))
    recs = [_rec(i) for i in range(1500)]
    index.upsert(recs, x, {r.id: looks[i] for i, r in enumerate(recs)})
    index.save()
    again = VectorIndex.open(index.path)
    spec = again.manifest.appearance_ann
    assert spec.kind == "ivf" and spec.storage == "sq8" and len(again.appearance) == 1500
    assert again.manifest.ann.storage == "fp16"  # product vectors: half precision in their lists
    stored = again.appearance.vectors([again.get("p7").key])[0]
    assert float(stored @ looks[7]) > 0.99  # 8-bit storage: close, not equal
    found = again.appearance.nearest(looks[:1], 5)
    assert again.get("p0").key in set(found.tolist())
