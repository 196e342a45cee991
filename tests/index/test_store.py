import json

import numpy as np
import pytest

from scenefit import InvalidIndexError, ModelMismatchError
from scenefit.index import ProductRecord, VectorIndex


def _rec(i: str, **kw) -> ProductRecord:
    base = dict(id=i, sku_id=f"sku-{i}", description=f"item {i}", image=None, text=f"item {i}",
                category="vase", colours=["gold"], materials=["ceramic"], content_hash=f"h{i}",
                image_status="none", attributes={"price": "9.5"})
    base.update(kw)
    return ProductRecord(**base)


def _unit(rng, n, d=8):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=["sqlite", "postgres"])
def index(request, tmp_path, monkeypatch):
    """Every test runs with products in the folder's SQLite file and in PostgreSQL."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        # VectorIndex.open() calls in the tests pass no URL: give it through the class.
        real_open = VectorIndex.open.__func__
        monkeypatch.setattr(VectorIndex, "open", classmethod(
            lambda cls, path, database_url=url: real_open(cls, path, database_url=database_url)))
    idx = VectorIndex.create(tmp_path / "ix", model_id="m1", dim=8, encoder={"backend": "fake"},
                             database_url=url)
    rng = np.random.default_rng(0)
    idx.upsert([_rec(str(i)) for i in range(5)], _unit(rng, 5))
    idx.save(catalog_hash="abc")
    yield idx
    if url:
        from scenefit.index._records import PostgresStore

        PostgresStore(url, idx.manifest.uid).drop_index()


def test_round_trip_keeps_vectors_and_records(index):
    again = VectorIndex.open(index.path)
    assert len(again) == 5
    assert again.manifest.catalog_hash == "abc" and again.manifest.count == 5
    rec = again.get("3")
    assert rec.attributes == {"price": "9.5"} and rec.colours == ["gold"]
    np.testing.assert_allclose(again.vectors([rec.key]), index.vectors([index.get("3").key]))


def test_search_returns_nearest_first(index):
    target = index.vectors([index.get("2").key])[0]
    keys, scores = index.search(target, 3)
    assert index.record(int(keys[0])).id == "2"
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)


def test_search_restricted_by_filters(index):
    from scenefit.index import Filters

    target = index.vectors([index.get("2").key])[0]
    keys, _ = index.search(target, 5, Filters.parse(where=["id=0", "id=4"]))
    assert {index.record(int(k)).id for k in keys} == {"0", "4"}


def test_upsert_replaces_and_delete_removes(index):
    new_vec = np.eye(8, dtype=np.float32)[:1]
    index.upsert([_rec("2", description="changed")], new_vec)
    assert len(index) == 5 and index.get("2").description == "changed"
    keys, _ = index.search(new_vec[0], 1)
    assert index.record(int(keys[0])).id == "2"
    assert index.delete(["2", "nope"]) == 1
    index.save()
    again = VectorIndex.open(index.path)
    assert again.get("2") is None and len(again) == 4


def test_refuses_zero_vectors(index):
    with pytest.raises(ValueError):
        index.upsert([_rec("z")], np.zeros((1, 8), np.float32))


def test_crash_mid_write_leaves_previous_index_readable(index, monkeypatch):
    import faiss

    index.upsert([_rec("new")], np.eye(8, dtype=np.float32)[3:4])
    index.delete(["1"])
    real_write = faiss.write_index

    def boom(*a, **k):  # after the product rows were committed, before the manifest switch
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", boom)
    with pytest.raises(OSError):
        index.save()
    again = VectorIndex.open(index.path)
    assert len(again) == 5 and again.get("new") is None and again.get("1") is not None
    assert not [p for p in index.path.iterdir() if p.name.endswith(".tmp")]

    # The next writer rolls the dead generation's rows back and writes its own.
    monkeypatch.setattr(faiss, "write_index", real_write)
    again.upsert([_rec("later")], np.eye(8, dtype=np.float32)[4:5])
    again.save()
    final = VectorIndex.open(index.path)
    assert sorted(final.ids()) == sorted(["0", "1", "2", "3", "4", "later"])


def test_readers_see_one_generation_until_the_switch(index):
    reader = VectorIndex.open(index.path)
    assert reader.is_current()
    index.upsert([_rec("new")], np.eye(8, dtype=np.float32)[3:4])
    index.delete(["0"])
    assert reader.is_current()  # nothing saved yet
    index.save()
    assert not reader.is_current()
    assert reader.get("0") is not None and reader.get("new") is None  # its own generation
    fresh = VectorIndex.open(index.path)
    assert fresh.get("0") is None and fresh.get("new").description == "item new"


def test_rebuild_in_place_replaces_every_product(index):
    url = getattr(index._store, "url", None)
    rebuilt = VectorIndex.create(index.path, model_id="m1", dim=8, encoder={}, database_url=url)
    rebuilt.upsert([_rec("only")], np.eye(8, dtype=np.float32)[:1])
    rebuilt.save()
    assert VectorIndex.open(index.path).ids() == ["only"]


def test_old_generations_are_pruned(index):
    for _ in range(4):
        index.save()
    gens = sorted(p.name for p in index.path.glob("gen-*"))
    assert len(gens) == 2 and gens[-1] == f"gen-{index.manifest.generation:06d}"


def test_model_mismatch_is_refused(index):
    index.check_model("m1", 8)
    with pytest.raises(ModelMismatchError, match="built with model 'm1'"):
        index.check_model("other", 8)
    with pytest.raises(ModelMismatchError):
        index.check_model("m1", 16)


def test_a_write_naming_another_vector_store_is_refused(index):
    from scenefit import ConfigError

    index.check_store(None)  # no store named: the index's own
    index.check_store(index.manifest.vector_store)
    with pytest.raises(ConfigError, match="add --rebuild to move them"):
        index.check_store("/elsewhere/other.db")


def test_missing_and_corrupt_index(tmp_path, index):
    with pytest.raises(InvalidIndexError, match="no such index folder"):
        VectorIndex.open(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidIndexError, match="not a scenefit index"):
        VectorIndex.open(tmp_path / "empty")
    (index.path / "manifest.json").write_text("{not json")
    with pytest.raises(InvalidIndexError, match="corrupt manifest"):
        VectorIndex.open(index.path)


def test_future_format_is_refused(index):
    m = json.loads((index.path / "manifest.json").read_text())
    m["format_version"] = 99
    (index.path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InvalidIndexError, match="format 99"):
        VectorIndex.open(index.path)


def test_store_is_recorded_and_required(index):
    assert index.manifest.store == index._store.kind
    if index.manifest.store == "postgres":
        with pytest.raises(InvalidIndexError, match="SCENEFIT_DATABASE_URL"):
            VectorIndex.open(index.path, database_url=None)


def test_unreachable_postgres_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidIndexError, match="PostgreSQL at SCENEFIT_DATABASE_URL unreachable"):
        VectorIndex.create(tmp_path / "ix", model_id="m", dim=8, encoder={},
                           database_url="postgresql://nobody@127.0.0.1:1/none")


def test_open_reads_ids_only_and_records_on_demand(index, monkeypatch):
    import scenefit.index._store as store_mod

    monkeypatch.setattr(store_mod, "RECORD_CACHE", 2)
    again = VectorIndex.open(index.path)
    assert len(again) == 5 and not again._cache  # nothing but ids and keys loaded
    recs = again.records_for([index.get("1").key, index.get("3").key, 10**9])
    assert [r.id if r else None for r in recs] == ["1", "3", None]
    again.get("0")
    assert len(again._cache) == 2  # bounded: the oldest lookup was dropped
    assert sorted(r.id for r in again.records()) == ["0", "1", "2", "3", "4"]


def test_a_reader_one_write_behind_still_reads_its_generation(index):
    reader = VectorIndex.open(index.path)
    index.upsert([_rec("2", description="changed")], np.eye(8, dtype=np.float32)[5:6])
    index.save()
    assert reader.get("2").description == "item 2"  # its own generation's row
    assert VectorIndex.open(index.path).get("2").description == "changed"


def _write_twice(path) -> None:
    """Two more generations from another writer: the generation a reader started from is
    pruned (the folder keeps two)."""
    rng = np.random.default_rng(1)
    for i in ("w1", "w2"):
        writer = VectorIndex.open(path)
        writer.upsert([_rec(i)], _unit(rng, 1))
        writer.save()


def test_open_outrun_by_writers_starts_again_from_the_newer_manifest(index, monkeypatch):
    real = VectorIndex._open_generation.__func__
    calls = []

    writing = []

    def outrun(cls, path, manifest, database_url):
        if not writing:  # the reader's calls, not the writer's own opens
            calls.append(manifest.generation)
            if len(calls) == 1:  # between reading the manifest and reading its generation
                writing.append(True)
                _write_twice(path)
                writing.clear()
        return real(cls, path, manifest, database_url)

    monkeypatch.setattr(VectorIndex, "_open_generation", classmethod(outrun))
    again = VectorIndex.open(index.path)
    assert calls == [index.manifest.generation, index.manifest.generation + 2]
    assert again.manifest.generation == index.manifest.generation + 2
    assert {"w1", "w2"} <= set(again.ids()) and len(again) == 7


def test_open_of_a_damaged_generation_still_fails_when_nobody_wrote(index):
    (index.path / f"gen-{index.manifest.generation:06d}" / "vectors.faiss").write_bytes(b"junk")
    with pytest.raises(InvalidIndexError, match="rebuild"):
        VectorIndex.open(index.path)
