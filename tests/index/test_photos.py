"""Several photos per product in the appearance space: keys derived from the product's,
following its upserts, deletes and saves."""

import numpy as np
import pytest

from scenefit import InvalidIndexError
from scenefit.index import ProductRecord, VectorIndex


def _rec(i):
    return ProductRecord(i, "s", f"item {i}", None, f"item {i}", "vase", [], [], f"h{i}", "none")


E = np.eye(3, dtype=np.float32)


def test_further_photos_follow_upserts_deletes_and_saves(tmp_path):
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    idx.upsert([_rec("a"), _rec("b")], np.eye(4, dtype=np.float32)[:2], {"a": E[[0, 2]], "b": E[1]})
    assert len(idx.appearance) == 3 and idx.photo_counts() == {idx.get("a").key: 2, idx.get("b").key: 1}
    idx.save()
    idx = VectorIndex.open(tmp_path / "ix")
    a, b = idx.get("a").key, idx.get("b").key
    # A search that finds a's second photo names a.
    assert idx.appearance.nearest(E[2:3], 1).tolist() == [a]
    photos, owner = idx.photos(np.array([b, a]))
    assert owner.tolist() == [0, 1, 1] and photos[:2].tolist() == [b, a]
    np.testing.assert_allclose(idx.appearance.vectors(photos), E[[1, 0, 2]])
    # Replaced with one photo: the old second one goes.
    idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": E[1]})
    assert len(idx.appearance) == 2 and sorted(idx.photo_counts().values()) == [1, 1]
    idx.upsert([_rec("b")], np.eye(4, dtype=np.float32)[1:2], {"b": E[[0, 1, 2]]})
    idx.save()
    idx = VectorIndex.open(tmp_path / "ix")
    assert len(idx.appearance) == 4
    idx.delete(["b"])
    assert len(idx.appearance) == 1
    idx.save()
    assert len(VectorIndex.open(tmp_path / "ix").appearance) == 1


def test_a_bad_further_photo_vector_changes_nothing(tmp_path):
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    with pytest.raises(ValueError):
        idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": np.stack([E[0], np.zeros(3, np.float32)])})
    assert len(idx) == 0 and len(idx.appearance) == 0


def test_a_further_photo_of_no_product_is_refused_at_open(tmp_path):
    import faiss

    from scenefit.index._photos import PHOTO_STRIDE

    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=4, encoder={}, appearance_dim=3)
    idx.upsert([_rec("a")], np.eye(4, dtype=np.float32)[:1], {"a": E[[0, 1]]})
    idx.save()
    gen = next((tmp_path / "ix").glob("gen-*"))
    stray = faiss.IndexIDMap2(faiss.IndexFlatIP(3))
    stray.add_with_ids(E[:2], np.array([0, 7 + PHOTO_STRIDE], np.int64))  # product 7 does not exist
    faiss.write_index(stray, str(gen / "appearance.faiss"))
    with pytest.raises(InvalidIndexError, match="appearance vectors and products disagree"):
        VectorIndex.open(tmp_path / "ix")
