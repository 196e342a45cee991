"""Vectors in Milvus Lite (``--store FILE.db``) behind the same index interface: the same
picks as FAISS exact search, filters pushed down, writes mapped to Milvus operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenefit import BackendError, ConfigError, ModelMismatchError
from scenefit.cli import main
from scenefit.embed import EncoderConfig
from scenefit.engine import Engine
from scenefit.index import MilvusTarget, VectorIndex, filter_expression
from scenefit.rank import Filters

pytest.importorskip("pymilvus", reason="pymilvus is not installed (pip install 'scenefit[milvus]')")
pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install 'scenefit[milvus]')")

ROOT = Path(__file__).resolve().parents[2]
IKEA = ROOT.parent / "shared" / "benchmarks" / "ikea-dev"
SEED = ROOT / "examples" / "product-catalog.csv"


def _engine(index: Path, store: str | None = None) -> Engine:
    return Engine(index, encoder=EncoderConfig(backend="offline", runtime="onnx"), log=lambda m: None,
                  vector_store=store)


def _picks(result):
    """(rounded score, text) per rank: equal scores of identical products may swap places."""
    return [(round(r.score, 3), r.description) for r in result.recommendations]


@pytest.fixture(scope="module")
def seed_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("milvus-seed")
    faiss_ix, milvus_ix = folder / "faiss", folder / "milvus"
    _engine(faiss_ix).ingest(SEED)
    _engine(milvus_ix, str(folder / "vectors.db")).ingest(SEED)
    return folder, faiss_ix, milvus_ix


@pytest.mark.slow
def test_seed_catalog_same_top10_as_faiss_exact(seed_pair, living_room):
    folder, faiss_ix, milvus_ix = seed_pair
    f, m = VectorIndex.open(faiss_ix), VectorIndex.open(milvus_ix)
    assert f.manifest.ann.kind == "flat" and m.manifest.vector_store == str(folder / "vectors.db")
    assert not list(milvus_ix.glob("gen-*"))  # no FAISS files: the vectors are in Milvus
    assert type(m._space).__name__ == "MilvusSpace" and type(f._space).__name__ == "FaissSpace"
    for filters in (None, Filters.parse(category=["vase", "figurine"]), Filters.parse(where=["sku_id=10720"])):
        a = _engine(faiss_ix).match(living_room, k=10, filters=filters)
        b = _engine(milvus_ix).match(living_room, k=10, filters=filters)
        assert _picks(a) == _picks(b) and len(a.recommendations) >= 1


@pytest.mark.slow
def test_writes_map_to_milvus_operations(seed_pair, living_room, tmp_path):
    import shutil

    from scenefit.index import MilvusCollection as MilvusSpace

    _, _, milvus_ix = seed_pair
    ix = tmp_path / "ix"
    store = str(tmp_path / "w.db")
    engine = _engine(ix, store)
    engine.ingest(SEED)
    collection = VectorIndex.open(ix).manifest.vector_collection
    assert collection.startswith("scenefit_")
    space = MilvusSpace(MilvusTarget.parse(store), collection, 384)
    assert space.count() == 500
    top = engine.match(living_room, k=1).recommendations[0]
    assert engine.delete_products([top.id]) == 1
    assert space.count() == 499
    assert top.id not in {r.id for r in _engine(ix).match(living_room, k=10).recommendations}
    engine.upsert_products([{"id": "new-1", "sku_id": "N1", "description": "GOLD GEO VASE 12IN"}])
    assert space.count() == 500
    got = _engine(ix).match(living_room, k=10, filters=Filters.parse(where=["id=new-1"]))
    assert [r.id for r in got.recommendations] == ["new-1"]
    shutil.rmtree(ix)


@pytest.fixture(scope="module")
def ikea_subset(tmp_path_factory, ikea_subset_writer):
    out = tmp_path_factory.mktemp("milvus-ikea")
    return out, ikea_subset_writer(out, every=20, scenes=5, others=60, seed=2)


@pytest.mark.slow
def test_ikea_subset_same_picks_and_same_eval(ikea_subset, capsys):
    out, scenes = ikea_subset
    figures = {}
    for name, store in (("faiss", []), ("milvus", ["--store", str(out / "vectors.db")])):
        code = main(["eval", "--catalog", str(out / "catalog.csv"), "--labels", str(out / "labels.jsonl"),
                     "--index", str(out / name), "--encoder", "offline", "--runtime", "onnx", *store,
                     "--json", str(out / f"{name}.json")])
        assert code == 0, capsys.readouterr().err
        figures[name] = json.loads((out / f"{name}.json").read_text())
    capsys.readouterr()
    a, b = figures["faiss"], figures["milvus"]
    for method in ("scenefit", "cosine"):
        assert a["methods"][method]["overall"]["recall"] == pytest.approx(b["methods"][method]["overall"]["recall"], abs=1e-9)
    # The appearance space is in Milvus too, and each scene's picks agree.
    m = VectorIndex.open(out / "milvus")
    assert m.appearance is not None and len(m.appearance) >= 60
    photo = IKEA / scenes[0]["scene"]
    assert _picks(_engine(out / "faiss").match(photo, k=10)) == _picks(_engine(out / "milvus").match(photo, k=10))


def test_filter_expression_quotes_values_and_keeps_the_column_semantics():
    expr = filter_expression({"vase"}, {"brand": {'say "hi"', "acme"}}, 5, None)
    assert expr == ('(category in ["vase"] or (attrs["category"] == "vase") or (attrs["type"] == "vase")) and '
                    '(attrs["brand"] == "acme" or attrs["brand"] == "say \\"hi\\"") and has_price == true and price >= 5.0')
    assert filter_expression(set(), {}, None, None) == "key >= 0"


def test_store_uris():
    assert MilvusTarget.parse("milvus://db.internal:19530/products") == MilvusTarget("http://db.internal:19530", "products")
    lite = MilvusTarget.parse("vectors.db")
    assert lite.lite and Path(lite.uri).is_absolute() and lite.collection == "scenefit"
    for bad in ("milvus://host:1", "milvus://host:1/a/b", "postgres://x", "vectors.sqlite"):
        with pytest.raises(ConfigError, match="expected milvus://"):
            MilvusTarget.parse(bad)


def test_unreachable_server_is_one_clear_error(tmp_path, capsys):
    code = main(["ingest", str(SEED), "--index", str(tmp_path / "ix"), "--encoder", "offline",
                 "--store", "milvus://127.0.0.1:9/products"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach Milvus at http://127.0.0.1:9" in err and "Traceback" not in err


@pytest.mark.slow
def test_collection_of_another_model_is_refused(seed_pair, tmp_path):
    from scenefit.index import MilvusCollection as MilvusSpace

    folder, _, milvus_ix = seed_pair
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(milvus_ix, copy)
    store = tmp_path / "other.db"
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["vector_store"] = str(store)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    MilvusSpace.open(MilvusTarget.parse(str(store)), manifest["vector_collection"], dim=512, model_id="clip:other",
                     create=True)
    with pytest.raises(ModelMismatchError, match="holds model 'clip:other' .dim 512."):
        VectorIndex.open(copy)
    with pytest.raises(ConfigError, match="add --rebuild"):
        _engine(milvus_ix, str(tmp_path / "elsewhere.db")).ingest(SEED)


def test_missing_pymilvus_gives_the_install_hint(monkeypatch, block_import):
    from scenefit.index import _milvus_client as _milvus

    block_import("pymilvus")
    monkeypatch.setattr(_milvus, "_CLIENTS", {})
    with pytest.raises(ConfigError, match=r"scenefit\[milvus\]"):
        _milvus._client(MilvusTarget.parse("x.db"))


def test_backend_error_is_a_scenefit_error():
    from scenefit import ScenefitError

    assert issubclass(BackendError, ScenefitError) and BackendError.code == "backend_error"


@pytest.mark.slow
def test_serve_answers_from_the_milvus_index(seed_pair, living_room):
    import time

    from fastapi.testclient import TestClient

    from scenefit._settings import Settings
    from scenefit.api import Service, create_app

    _, _, milvus_ix = seed_pair
    service = Service(milvus_ix, Settings(runtime="onnx"))
    with TestClient(create_app(service=service), raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        resp = client.post("/v1/match", files={"image": ("room.webp", living_room.read_bytes(), "image/webp")},
                           data={"k": "5", "filters": json.dumps({"category": "vase"})})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expected = _engine(milvus_ix).match(living_room, k=5, filters=Filters.parse(category=["vase"]))
    assert _picks_json(body) == _picks(expected)
    assert all(r["category"] == "vase" for r in body["recommendations"])


def _picks_json(body):
    return [(round(r["score"], 3), r["description"]) for r in body["recommendations"]]


def test_a_lite_file_held_by_another_process_is_one_clear_error(tmp_path):
    import subprocess
    import sys

    from scenefit.index import _milvus_client as _milvus

    db = tmp_path / "held.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pymilvus import MilvusClient; MilvusClient(sys.argv[1]); "
        "print('open', flush=True); time.sleep(60)"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        _milvus._CLIENTS.pop(str(db), None)
        with pytest.raises(BackendError, match="opened by one process at a time"):
            _milvus._client(MilvusTarget.parse(str(db)))
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_rebuild_fills_a_new_collection_and_drops_the_old_after_the_switch(tmp_path, living_room, monkeypatch):
    from scenefit.index import MilvusCollection as MilvusSpace

    monkeypatch.chdir(tmp_path)
    _engine(tmp_path / "ix", "v.db").ingest(SEED)  # a relative path: recorded absolute
    first = VectorIndex.open(tmp_path / "ix").manifest
    assert first.vector_store == str(tmp_path / "v.db")
    monkeypatch.chdir(ROOT)  # opened from elsewhere, the index still finds its vectors
    before = _picks(_engine(tmp_path / "ix").match(living_room, k=5))

    target = MilvusTarget.parse(first.vector_store)
    rebuilding = VectorIndex.create(tmp_path / "ix", model_id=first.model_id, dim=first.dim, encoder=first.encoder,
                                    vector_store=str(tmp_path / "v.db"))
    second = rebuilding.manifest.vector_collection
    assert second != first.vector_collection
    # Until the rebuild saves, readers keep the old collection, untouched.
    assert MilvusSpace(target, first.vector_collection, first.dim).count() == 500
    assert _picks(_engine(tmp_path / "ix").match(living_room, k=5)) == before
    src = VectorIndex.open(tmp_path / "ix")
    keys = src.keys()[:20]
    rebuilding.upsert(src.records_for(keys), src.vectors(keys))
    rebuilding.save()
    client = MilvusSpace(target, second, first.dim).client
    assert not client.has_collection(first.vector_collection)
    assert MilvusSpace(target, second, first.dim).count() == 20 and len(VectorIndex.open(tmp_path / "ix")) == 20
