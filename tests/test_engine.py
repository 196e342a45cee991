"""End to end with the real offline encoder: seed catalog in, living-room photo in, picks out."""

import json
import shutil

import pytest
from PIL import Image

from scenefit import SCHEMA_VERSION, Catalog, ConfigError, EncoderConfig, Engine, Filters, ImageError, ModelMismatchError

CATALOG = "product-catalog.csv"
PHOTO = "living-room.webp"


@pytest.fixture(scope="module")
def built(tmp_path_factory, request):
    root = request.config.rootpath / "examples"
    tmp = tmp_path_factory.mktemp("e2e")
    # A copy, so the test never writes next to the repo's demo data.
    shutil.copy(root / CATALOG, tmp / CATALOG)
    logs: list[str] = []
    engine = Engine(tmp / "index", encoder=EncoderConfig(backend="offline"), log=logs.append)
    report = engine.ingest(tmp / CATALOG)
    return engine, report, tmp, root / PHOTO, logs


def test_seed_catalog_rows_add_up(built):
    _, report, *_ = built
    assert report.read == 500
    assert report.indexed + len(report.rejected) == report.read
    assert report.indexed == 500 and report.rejected == []
    # The seed images live on an unreachable host: each is reported, none is lost.
    assert len(report.image_failures) == 499
    assert report.added == 500
    # Identical descriptions share a content hash and are embedded once.
    distinct = {p.parsed.text for p in Catalog.read(built[2] / CATALOG).products}
    assert report.embedded == len(distinct) < 500


def test_match_json_contract(built):
    engine, _, tmp, photo, _ = built
    result = engine.match(photo, k=10)
    data = json.loads(result.model_dump_json())
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) >= {"scene", "recommendations", "model", "index"}
    scene = data["scene"]
    assert set(scene) >= {"room_type", "style", "palette", "colours", "context"}
    for key in ("room_type", "style", "palette"):
        assert sum(scene[key].values()) == pytest.approx(1.0, abs=1e-3)
    assert next(iter(scene["room_type"])) == "living room"
    assert all({"name", "hex", "share"} <= set(c) for c in scene["colours"])
    recs = data["recommendations"]
    assert len(recs) == 10 and len({r["id"] for r in recs}) == 10
    for r in recs:
        assert {"id", "sku_id", "description", "score", "factors", "reason", "attributes"} <= set(r)
        assert set(r["factors"]) >= {"similarity", "room", "colour", "style"}
        assert r["reason"] and "\n" not in r["reason"]
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    assert data["model"]["id"].startswith("offline-") and data["model"]["dim"] == 384
    assert data["index"]["count"] == 500


def test_picks_fit_a_living_room(built):
    engine, _, _, photo, _ = built
    recs = engine.match(photo, k=10).recommendations
    # The seed catalog has no reachable photos, so the picks are ranked by text similarity
    # alone (the room factor carries no weight): still, nearly all of them must be things that
    # belong in a living room (room factor high), and the list must not be ten copies of one
    # kind of thing.
    assert sum(r.factors["room"] >= 0.6 for r in recs) >= 8
    assert len({r.category for r in recs}) >= 4


def test_context_and_filters(built):
    engine, _, _, photo, _ = built
    plain = engine.match(photo, k=5)
    ctx = engine.match(photo, k=5, context="a vase of flowers on the table")
    assert ctx.scene.context == "a vase of flowers on the table"
    assert [r.id for r in plain.recommendations] != [r.id for r in ctx.recommendations]
    vases = engine.match(photo, k=5, filters=Filters.parse(["vase"]))
    assert vases.recommendations and all(r.category == "vase" for r in vases.recommendations)
    with pytest.raises(ConfigError, match="unknown filter"):
        engine.match(photo, k=5, filters=Filters.parse(where=["colour_of_box=red"]))
    with pytest.raises(ConfigError):
        engine.match(photo, k=0)


def test_reingest_is_served_from_cache(built):
    engine, _, tmp, *_ = built
    again = engine.ingest(tmp / CATALOG)
    assert again.embedded == 0 and again.cached == 500 and again.unchanged == 500


def test_reopened_index_uses_its_recorded_encoder(built):
    _, _, tmp, photo, _ = built
    logs = []
    fresh = Engine(tmp / "index", log=logs.append)
    assert fresh.match(photo, k=3).model.backend == "offline"
    assert any("recorded in the index" in m for m in logs)


def test_other_model_is_refused(built, tmp_path):
    _, _, tmp, photo, _ = built
    other = Engine(tmp / "index", encoder=EncoderConfig(backend="offline", offline_top_k=3))
    with pytest.raises(ModelMismatchError, match="built with model"):
        other.match(photo)


def test_bad_scene_images(built, tmp_path):
    engine, *_ = built
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageError, match="not an image"):
        engine.match(tmp_path / "notes.txt")
    with pytest.raises(ImageError, match="not found"):
        engine.match(tmp_path / "missing.jpg")


def test_encoder_is_loaded_once_for_ingest_then_match(tmp_path, monkeypatch, fake_encoder, write_image):
    import scenefit.engine as engine_mod

    calls = []

    def fake_build(config):
        calls.append(config.backend)
        return fake_encoder, config.model_copy(update={"backend": "offline"}), "fake"

    monkeypatch.setattr(engine_mod, "build_encoder", fake_build)
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE GOLD,\n2,b,WOOD CHEST,\n")
    engine = Engine(tmp_path / "ix", log=lambda m: None)  # auto for a new index
    engine.ingest(tmp_path / "c.csv")
    photo = write_image(tmp_path / "room.png", (120, 100, 80))
    assert len(engine.match(photo, k=2).recommendations) == 2
    assert calls == ["auto"]  # match reused the encoder ingest resolved


def test_rebuild_switches_encoder_and_keeps_generations_moving(tmp_path, monkeypatch, fake_encoder):
    import scenefit.engine as engine_mod

    other = type(fake_encoder)("fake:v2")
    encoders = {1: fake_encoder, 2: other}

    def fake_build(config):
        enc = encoders[config.offline_top_k]
        return enc, config.model_copy(update={"backend": "offline"}), "fake"

    monkeypatch.setattr(engine_mod, "build_encoder", fake_build)
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE GOLD,\n")
    Engine(tmp_path / "ix", encoder=EncoderConfig(backend="offline", offline_top_k=1), log=lambda m: None).ingest(tmp_path / "c.csv")
    first = Engine(tmp_path / "ix", log=lambda m: None).index.manifest
    v2 = Engine(tmp_path / "ix", encoder=EncoderConfig(backend="offline", offline_top_k=2), log=lambda m: None)
    with pytest.raises(ModelMismatchError):
        v2.ingest(tmp_path / "c.csv")  # another model on an existing index needs --rebuild
    v2.ingest(tmp_path / "c.csv", rebuild=True)
    after = Engine(tmp_path / "ix", log=lambda m: None).index.manifest
    assert (first.model_id, after.model_id) == ("fake:v1", "fake:v2")
    assert after.generation > first.generation and after.count == 1


@pytest.mark.parametrize("size", [(1, 1), (1, 300), (20, 4000)])
def test_tiny_or_sliver_scenes_are_refused_clearly(built, tmp_path, size):
    engine, *_ = built
    path = tmp_path / "sliver.png"
    Image.new("RGB", size, (100, 100, 100)).save(path)
    with pytest.raises(ImageError, match="at least 32"):
        engine.match(path)


def test_small_scene_skips_regional_crops(built, tmp_path):
    engine, *_ = built
    path = tmp_path / "small.png"
    Image.new("RGB", (64, 48), (150, 120, 90)).save(path)
    assert len(engine.match(path, k=3).recommendations) == 3


@pytest.mark.parametrize("damage", ["manifest", "vectors", "generation folder"])
def test_rebuild_recovers_a_corrupt_index(tmp_path, monkeypatch, fake_encoder, damage):
    import scenefit.engine as engine_mod
    from scenefit import InvalidIndexError

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE GOLD,\n")
    Engine(tmp_path / "ix", log=lambda m: None).ingest(tmp_path / "c.csv")
    gen = next((tmp_path / "ix").glob("gen-*"))
    if damage == "manifest":
        (tmp_path / "ix" / "manifest.json").write_text("{broken")
    elif damage == "vectors":
        (gen / "vectors.faiss").write_bytes(b"junk")
    else:
        import shutil

        shutil.rmtree(gen)
    with pytest.raises(InvalidIndexError) as info:
        Engine(tmp_path / "ix", log=lambda m: None).ingest(tmp_path / "c.csv")
    assert "--index DIR --rebuild" in str(info.value)
    Engine(tmp_path / "ix", encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(
        tmp_path / "c.csv", rebuild=True)
    assert len(Engine(tmp_path / "ix", log=lambda m: None).index) == 1


def test_engine_without_explicit_regions_matches_on_the_adapters(tmp_path):
    import numpy as np

    from scenefit.index import VectorIndex
    from scenefit.learn import AppearanceAdapter
    from scenefit.scene import SceneConfig

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    assert Engine(tmp_path).scene_config.regions == "dense"  # nothing fitted: the default
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="crops").save(tmp_path)
    assert Engine(tmp_path).scene_config.regions == "crops"  # the adapter's regions
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="dense").save(tmp_path)
    engine = Engine(tmp_path)
    assert engine.scene_config.regions == "dense" and engine.appearance_adapter is not None
    notes = []
    crops = Engine(tmp_path, scene=SceneConfig(regions="crops"), log=notes.append)  # explicit: kept
    assert crops.scene_config.regions == "crops" and crops.appearance_adapter is None and notes
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="other", regions="crops").save(tmp_path)
    assert Engine(tmp_path).scene_config.regions == "dense"  # another encoder's adapter does not count
    # a refit changes what an engine without explicit regions follows
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="dense").save(tmp_path)
    engine = Engine(tmp_path)
    assert engine.scene_config.regions == "dense"
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="crops").save(tmp_path)
    engine._reload_fitted()
    assert engine.scene_config.regions == "crops" and engine.appearance_adapter is not None


def test_engine_uses_an_adapter_of_its_own_model_and_regions_only(tmp_path):
    import numpy as np

    from scenefit.index import VectorIndex
    from scenefit.learn import AppearanceAdapter
    from scenefit.scene import SceneConfig

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    assert Engine(tmp_path).appearance_adapter is None
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="crops").save(tmp_path)
    engine = Engine(tmp_path)
    assert engine.appearance_adapter is not None and engine.ranker().adapter is engine.appearance_adapter
    notes = []
    dense = Engine(tmp_path, scene=SceneConfig(regions="dense"), log=notes.append)
    assert dense.appearance_adapter is None and "fitted on --regions crops" in notes[0]
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="other", regions="crops").save(tmp_path)
    assert Engine(tmp_path).appearance_adapter is None  # e.g. the index was rebuilt with another encoder



def _write_lock_held(index_dir) -> bool:
    """Whether some writer holds the index folder's write lock right now."""
    from scenefit.index import VectorIndex

    probe = VectorIndex.write_lock(index_dir)
    try:
        probe.acquire(timeout=0)
    except TimeoutError:
        return True
    probe.release()
    return False


def test_api_writes_download_images_before_taking_the_write_lock(tmp_path, monkeypatch, fake_encoder, http_server):
    """The fetch runs outside the index's write lock, and an image that failed there is not
    tried again under it."""
    import scenefit.engine as engine_mod
    from scenefit.images import FetchConfig

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE GOLD,\n")
    fetch = FetchConfig(public_only=True, allow_networks=("127.0.0.0/8",), retries=1, backoff_s=0.01)
    engine = Engine(tmp_path / "ix", fetch=fetch, log=lambda m: None)
    engine.ingest(tmp_path / "c.csv")
    lock_free = []

    def busy(h):
        lock_free.append(not _write_lock_held(tmp_path / "ix"))
        h.send_error(503)

    http_server.route("/busy.png", busy)
    report = engine.upsert_products([{"id": "2", "description": "WOOD CHEST", "primary_image": http_server.url("/busy.png")}])
    assert lock_free == [True, True]  # both tries, none of them under the lock
    assert report.added == 1 and [f.id for f in report.image_failures] == ["2"]
    assert "HTTP 503" in report.image_failures[0].error
    assert engine.get_product("2").image_status.startswith("failed")


def test_a_request_waiting_on_a_reload_still_sees_a_write_acknowledged_before_it(tmp_path, monkeypatch,
                                                                                 fake_encoder):
    """Thread A reloads generation 2 slowly; meanwhile another process acknowledges a write
    (generation 3); request B, which arrives after that and waits for A's reload, must be
    answered from generation 3, not from the generation A loaded."""
    import threading

    import scenefit.engine as engine_mod
    from scenefit.index import VectorIndex

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\np0,1,RED CERAMIC VASE,\n")
    Engine(tmp_path / "ix", log=lambda m: None).ingest(tmp_path / "c.csv")
    reader, writer = (Engine(tmp_path / "ix", log=lambda m: None) for _ in range(2))
    reader.index  # noqa: B018 - the serving process holds generation 1
    writer.upsert_products([{"id": "a", "description": "BLUE LAMP"}])

    real_open = VectorIndex.open.__func__
    loading, release = threading.Event(), threading.Event()

    def slow_open(cls, *a, **kw):
        index = real_open(cls, *a, **kw)
        if threading.current_thread().name == "A":
            loading.set()
            release.wait(10)
        return index

    monkeypatch.setattr(VectorIndex, "open", classmethod(slow_open))
    a = threading.Thread(target=reader.refresh, name="A")
    a.start()
    assert loading.wait(10)  # A holds the engine's lock with generation 2 in hand
    writer.upsert_products([{"id": "b", "description": "GREEN LAMP"}])  # acknowledged
    seen = {}
    b = threading.Thread(target=lambda: seen.update(b=reader.get_product("b").description), name="B")
    b.start()
    b.join(0.3)  # B is now waiting for A's lock (if it were not, it would load on its own)
    release.set()
    a.join(10)
    b.join(10)
    assert seen == {"b": "GREEN LAMP"}


def test_a_delete_that_cannot_get_the_write_lock_is_an_index_error(tmp_path, monkeypatch, fake_encoder):
    """Like every other write (a 503 over the API), not a bare lock timeout (a 500)."""
    import threading

    import scenefit.engine as engine_mod
    from scenefit import InvalidIndexError
    from scenefit.index import VectorIndex

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\np0,1,RED CERAMIC VASE,\n")
    engine = Engine(tmp_path / "ix", log=lambda m: None)
    engine.ingest(tmp_path / "c.csv")
    real = VectorIndex.write_lock
    monkeypatch.setattr(VectorIndex, "write_lock", staticmethod(lambda path, timeout_s=0.2: real(path, timeout_s)))
    held, done = threading.Event(), threading.Event()

    def hold():
        with real(tmp_path / "ix", 5):
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        with pytest.raises(InvalidIndexError, match="write lock"):
            engine.delete_products(["p0"])
    finally:
        done.set()
        holder.join(10)
    assert engine.delete_products(["p0"]) == 1


def test_a_write_keeps_the_fitted_files_it_left_alone(tmp_path, monkeypatch, fake_encoder):
    """An upsert or a delete makes a new generation; the adapter already loaded is kept as the
    same object, not read again (what was built on it stays valid)."""
    import numpy as np

    import scenefit.engine as engine_mod
    from scenefit.learn import AppearanceAdapter

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\np0,1,RED CERAMIC VASE,\n")
    engine = Engine(tmp_path / "ix", log=lambda m: None)
    engine.ingest(tmp_path / "c.csv")
    model_id = engine.index.manifest.model_id
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id=model_id, regions="crops").save(tmp_path / "ix")
    engine._reload_fitted()
    adapter = engine.fitted.adapter
    assert adapter is not None
    engine.upsert_products([{"id": "a", "description": "BLUE LAMP"}])
    assert engine.fitted.adapter is adapter
    engine.delete_products(["a"])
    assert engine.fitted.adapter is adapter


def test_refresh_swaps_the_fitted_bundle_whole(tmp_path):
    """Another process refits and writes a new generation: the next refresh serves the new
    weights, and what that fit left unchanged is not read again."""
    import numpy as np

    from scenefit.index import VectorIndex
    from scenefit.learn import AppearanceAdapter, FittedRanking
    from scenefit.rank import RankWeights

    VectorIndex.create(tmp_path, model_id="m1", dim=4, encoder={}).save()
    AppearanceAdapter(np.zeros((3, 3), np.float32), model_id="m1", regions="crops").save(tmp_path)
    engine = Engine(tmp_path, log=lambda m: None)
    engine.index  # noqa: B018 - the serving process holds this generation
    before = engine.fitted
    assert before.ranking is None and engine.rank_config.weights == RankWeights()
    w = RankWeights(appearance=1, similarity=0, room=0, colour=0, style=0)
    FittedRanking(weights=w, diversity=0.0, k=10, n_scenes=3, cv_folds=2, cv_recall=0.1, train_recall=0.2,
                  default_recall=0.05, labels="l", fitted_at="now", model_id="m1").save(tmp_path)
    assert engine.rank_config.weights == RankWeights()  # same generation: nothing reread
    VectorIndex.open(tmp_path).save()  # a newer generation
    assert engine.refresh()
    after = engine.fitted
    assert after is not before and after.ranking is not None and engine.rank_config.weights == w
    assert after.adapter is before.adapter and engine.ranker().adapter is after.adapter


def test_fit_saves_its_files_under_the_write_lock(tmp_path, monkeypatch, fake_encoder, write_image):
    import json

    import scenefit.engine as engine_mod

    monkeypatch.setattr(engine_mod, "build_encoder",
                        lambda c: (fake_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    (tmp_path / "c.csv").write_text("id,sku_id,description,primary_image\n1,a,CERAMIC VASE GOLD,\n2,b,WOOD CHEST,\n")
    write_image(tmp_path / "room.png", (120, 100, 80))
    (tmp_path / "labels.jsonl").write_text(json.dumps({"scene": "room.png", "relevant": ["1"]}) + "\n")
    held = []
    real = engine_mod.save_fit

    def probing(*a, **kw):
        held.append(_write_lock_held(tmp_path / "ix"))
        return real(*a, **kw)

    monkeypatch.setattr(engine_mod, "save_fit", probing)
    engine = Engine(tmp_path / "ix", log=lambda m: None)
    result = engine.fit(tmp_path / "c.csv", tmp_path / "labels.jsonl", k=2)
    assert held == [True] and (tmp_path / "ix" / "ranking.json").is_file()
    assert engine.fitted.ranking == result.ranking  # the engine serves what it just saved
