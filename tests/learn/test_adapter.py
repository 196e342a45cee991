from __future__ import annotations

import numpy as np

from scenefit.embed import l2_normalize
from scenefit.learn import ADAPTER_FILE, AdapterFitConfig, AdapterSample, AppearanceAdapter
from scenefit.rank import RegionAdapter, pool_regions

D = 24
NOISY = slice(0, 8)  # dimensions where scene photos carry clutter that product photos don't


def _world(seed: int = 0, products: int = 120, scenes: int = 60, shown_from=range(0, 120), catalog=None):
    """Products are random unit vectors. A scene shows 3 products, each as a region that is the
    product plus strong clutter in 8 fixed dimensions, beside 6 regions of pure clutter. Raw
    cosine is dominated by the clutter; a linear map that damps those dimensions recovers the
    products, whichever products they are."""
    rng = np.random.default_rng(seed)
    if catalog is None:
        catalog = l2_normalize(rng.normal(size=(products, D)).astype(np.float32))
    out = []
    for _ in range(scenes):
        shown = rng.choice(np.asarray(shown_from), 3, replace=False)
        regions = catalog[shown].copy()
        regions[:, NOISY] += rng.normal(scale=1.5, size=(3, 8))
        clutter = np.zeros((6, D), np.float32)
        clutter[:, NOISY] = rng.normal(scale=1.5, size=(6, 8))
        clutter += rng.normal(scale=0.05, size=(6, D))
        out.append(AdapterSample(l2_normalize(np.concatenate([regions, clutter]).astype(np.float32)), shown))
    return catalog, out


def _recall(samples, catalog, adapter=None, k=5):
    project = adapter.apply if adapter else (lambda x: x)
    products = project(catalog)
    total = 0.0
    for s in samples:
        best = (project(s.looks) @ products.T).max(axis=0)
        total += len(set(np.argsort(-best)[:k]) & set(s.relevant.tolist())) / len(s.relevant)
    return total / len(samples)


def test_adapter_learns_the_shift_and_carries_over_to_products_it_never_saw():
    # train on scenes that show products 0–59 only; test on scenes that show only 60–119
    catalog, train = _world(shown_from=range(60))
    _, test = _world(seed=1, scenes=30, shown_from=range(60, 120), catalog=catalog)
    adapter = AppearanceAdapter.fit(train, catalog, AdapterFitConfig(steps=150, learning_rate=3e-3, batch=8))
    before, after = _recall(test, catalog), _recall(test, catalog, adapter)
    assert after > before + 0.25, (before, after)
    assert adapter.n_scenes == len(train) and adapter.steps == 150
    # what it learned is the clutter: those dimensions are damped relative to the others
    gain = np.linalg.norm(np.eye(D) + adapter.matrix, axis=1)
    assert gain[NOISY].mean() < gain[8:].mean()


def test_fit_is_deterministic_and_empty_input_gives_the_identity():
    catalog, samples = _world(seed=1, scenes=12)
    cfg = AdapterFitConfig(steps=5, batch=4)
    a, b = AppearanceAdapter.fit(samples, catalog, cfg), AppearanceAdapter.fit(samples, catalog, cfg)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    assert np.abs(a.matrix).max() > 0
    none = AppearanceAdapter.fit([AdapterSample(samples[0].looks, np.array([], np.int64))], catalog, cfg)
    np.testing.assert_allclose(none.apply(catalog), catalog, atol=1e-6)  # no relevant product: nothing learned
    assert none.n_scenes == 0


def test_apply_normalises_and_caches_the_reference_projection():
    rng = np.random.default_rng(2)
    adapter = AppearanceAdapter(rng.normal(scale=0.1, size=(D, D)).astype(np.float32))
    x = rng.normal(size=(5, D)).astype(np.float32)
    y = adapter.apply(x)
    assert y.dtype == np.float32 and np.allclose(np.linalg.norm(y, axis=1), 1, atol=1e-5)
    first = adapter.apply_cached(x)
    assert adapter.apply_cached(x) is first  # the same array object: projected once
    assert adapter.apply_cached(x.copy()) is not first


def test_save_and_load_round_trip_and_other_versions_are_ignored(tmp_path):
    adapter = AppearanceAdapter(np.full((D, D), 0.01, np.float32), n_scenes=7, steps=100,
                                model_id="m1", regions="dense", pooling=0.02)
    path = adapter.save(tmp_path)
    assert path.name == ADAPTER_FILE
    back = AppearanceAdapter.load(tmp_path)
    np.testing.assert_array_equal(back.matrix, adapter.matrix)
    assert (back.n_scenes, back.steps, back.model_id, back.regions, back.pooling) == (7, 100, "m1", "dense", 0.02)
    assert AppearanceAdapter.load(tmp_path / "nothing") is None
    import json

    with np.load(path) as data:
        matrix, meta = data["matrix"], json.loads(str(data["meta"]))
    # a file from before pooling existed scored the best region only, and still does
    np.savez(path, matrix=matrix, meta=np.array(json.dumps({k: v for k, v in meta.items() if k != "pooling"})))
    assert AppearanceAdapter.load(tmp_path).pooling == 0.0
    np.savez(path, matrix=matrix, meta=np.array(json.dumps({**meta, "format_version": 99})))
    assert AppearanceAdapter.load(tmp_path) is None


def test_soft_pooling_rewards_several_close_regions_within_its_bound():
    # product 0: one region at 0.80; product 1: three regions at 0.79
    cosines = np.array([[0.80, 0.79], [0.10, 0.79], [0.10, 0.79], [0.0, 0.0]], np.float32)
    np.testing.assert_array_equal(pool_regions(cosines), cosines.max(axis=0))  # temperature 0: best region
    soft = pool_regions(cosines, 0.02)
    assert soft[1] > soft[0]  # several windows on the object add up
    assert np.all(soft >= cosines.max(axis=0)) and np.all(soft <= cosines.max(axis=0) + 0.02 * np.log(4) + 1e-6)
    catalog, samples = _world(scenes=4)
    assert AppearanceAdapter.fit(samples, catalog, AdapterFitConfig(steps=1, batch=2, pooling=0.05)).pooling == 0.05
    adapter = AppearanceAdapter(np.zeros((2, 2), np.float32), pooling=0.02)
    np.testing.assert_allclose(adapter.pool(cosines), soft)


def test_retrieval_queries_find_the_adapted_neighbours_among_raw_vectors():
    rng = np.random.default_rng(3)
    catalog = l2_normalize(rng.normal(size=(2000, D)).astype(np.float32))
    adapter = AppearanceAdapter(rng.normal(scale=0.3, size=(D, D)).astype(np.float32))
    regions = l2_normalize(rng.normal(size=(20, D)).astype(np.float32))
    exact = adapter.pool(adapter.apply(regions) @ adapter.apply(catalog).T)
    top = set(np.argsort(-exact)[:10].tolist())

    def found(queries, n=100):
        return set(np.argsort(-(queries @ catalog.T).max(axis=0))[:n].tolist())

    assert len(top & found(adapter.retrieval_queries(adapter.apply(regions)))) >= 9
    assert len(top & found(regions)) < 9  # the raw regions miss them: the adapter moved them


def test_the_adapter_is_what_the_ranker_takes():
    """The ranker only knows rank.RegionAdapter; the fitted adapter must keep satisfying it."""
    assert isinstance(AppearanceAdapter(np.zeros((2, 2), np.float32)), RegionAdapter)
    assert not isinstance(object(), RegionAdapter)
