import numpy as np

from scenefit.index import ProductRecord, VectorIndex


def _rec(i):
    return ProductRecord(i, "s", f"item {i}", None, f"item {i}", "vase", [], [], f"h{i}", "none")


def test_appearance_vectors_follow_upserts_deletes_and_saves(tmp_path):
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    vecs = np.eye(4, dtype=np.float32)[:3]
    look = {"a": np.array([1, 0, 0], np.float32), "c": np.array([0, 0, 1], np.float32)}  # b has no photo
    idx.upsert([_rec("a"), _rec("b"), _rec("c")], vecs, look)
    assert len(idx.appearance) == 2 and idx.get("b").key not in idx.appearance
    idx.save()
    again = VectorIndex.open(tmp_path / "ix")
    assert again.manifest.appearance_dim == 3 and len(again.appearance) == 2
    hit = again.appearance.nearest(np.array([[0, 0, 1]], np.float32), 1)
    assert [again.record(int(k)).id for k in hit] == ["c"]
    np.testing.assert_allclose(again.appearance.vectors([again.get("a").key]), [[1, 0, 0]])
    again.delete(["c"])
    assert len(again.appearance) == 1 and again.appearance.reference().shape == (1, 3)
    # replacing a product without a photo drops its old appearance vector
    again.upsert([_rec("a")], vecs[:1], {})
    assert len(again.appearance) == 0


def test_indexes_without_appearance_keep_none(tmp_path):
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={})
    idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": np.ones(3, np.float32)})
    idx.save()
    again = VectorIndex.open(tmp_path / "ix")
    assert again.appearance is None and again.manifest.appearance_dim == 0
    assert not list((tmp_path / "ix").glob("gen-*/appearance.faiss"))


def test_bad_appearance_vectors_change_nothing(tmp_path):
    import pytest

    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    for bad in (np.zeros(3, np.float32), np.ones(5, np.float32), np.array([np.nan, 1, 1], np.float32)):
        with pytest.raises(ValueError):
            idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": bad})
        assert len(idx) == 0 and len(idx.appearance) == 0


def test_appearance_out_of_step_with_products_is_refused(tmp_path):
    import faiss
    import pytest

    from scenefit import InvalidIndexError

    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": np.ones(3, np.float32)})
    idx.save()
    gen = next((tmp_path / "ix").glob("gen-*"))
    stray = faiss.IndexIDMap2(faiss.IndexFlatIP(3))
    stray.add_with_ids(np.ones((1, 3), np.float32), np.array([99], np.int64))  # no such product
    faiss.write_index(stray, str(gen / "appearance.faiss"))
    with pytest.raises(InvalidIndexError, match="appearance vectors and products disagree"):
        VectorIndex.open(tmp_path / "ix")


def test_best_keys_keeps_the_best_scoring_keys_of_many_queries():
    from scenefit.index._space import best_keys

    keys = np.array([[5, 7, -1], [7, 9, 2]])
    scores = np.array([[0.9, 0.2, 0.0], [0.8, 0.7, 0.1]], np.float32)
    np.testing.assert_array_equal(best_keys(scores, keys, None), [2, 5, 7, 9])
    np.testing.assert_array_equal(best_keys(scores, keys, 2), [5, 7])  # 5 (0.9), 7 (0.8)
    np.testing.assert_array_equal(best_keys(scores, keys, 3), [5, 7, 9])


def test_a_filtered_search_of_a_partial_space_follows_its_key_changes():
    """The appearance space holds only products with photos: a filter's allowed keys are
    narrowed to those it holds, and that narrowing is redone after an add or a remove."""
    from scenefit.index._ann import empty_flat
    from scenefit.index._faiss import FaissSpace
    from scenefit.index._filters import FilterSpec

    allowed = np.array([1, 2, 3], np.int64)

    class Columns:
        def allowed(self, spec):
            return allowed

    space = FaissSpace(empty_flat(4), file="appearance.faiss", columns=lambda: Columns(), partial=True, keys=set())
    space.add(np.array([1, 9]), np.eye(4, dtype=np.float32)[:2])
    spec = FilterSpec()
    assert space._allowed(spec).tolist() == [1]
    assert space._allowed(spec) is space._allowed(spec)  # narrowed once per filter
    space.add(np.array([2]), np.eye(4, dtype=np.float32)[2:3])
    assert space._allowed(spec).tolist() == [1, 2]
    space.remove([1])
    assert space._allowed(spec).tolist() == [2]
    _, keys = space.search(np.eye(4, dtype=np.float32)[:1], 3, spec)
    assert set(keys[0].tolist()) - {-1} == {2}
