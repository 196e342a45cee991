"""The ingest pipeline with a fake encoder: accounting, cache, image fallback, sync."""

import csv
import json

import httpx
import numpy as np
import pytest

from scenefit import Catalog, CatalogError, FetchConfig, IngestConfig
from scenefit.pipelines._ingest import run_ingest
from scenefit._progress import NullProgress
from scenefit.embed import EmbeddingCache
from scenefit.index import VectorIndex


def _write_catalog(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "sku_id", "description", "primary_image", "price"])
        w.writerows(rows)
    return path


@pytest.fixture
def setup(tmp_path, fake_encoder, write_image):
    write_image(tmp_path / "img" / "red.png", (200, 30, 30))
    write_image(tmp_path / "img" / "blue.png", (30, 30, 200))
    (tmp_path / "img" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    rows = [
        ["a", "A1", "CERAMIC VASE, GOLD", "img/red.png", "10"],
        ["b", "B1", "S/2 BLACK ALLIGATOR BOOKENDS", "img/blue.png", "20"],
        ["c", "C1", "RUSTIC WOOD CHEST, NATURAL", "", "30"],
        ["d", "D1", "GOLD HEXAGON MIRROR", "https://img.example/d.jpg", "40"],
        ["", "E1", "NO ID HERE", "", ""],
        ["a", "A2", "DUPLICATE OF A", "", ""],
        ["f", "F1", "BROKEN IMAGE VASE", "img/broken.png", ""],
        ["g", "G1", "MISSING IMAGE VASE", "img/nope.png", ""],
    ]
    catalog = _write_catalog(tmp_path / "cat.csv", rows)
    requests = []

    def handler(request):
        requests.append(str(request.url))
        return httpx.Response(503)

    def run(path=catalog, **kw):
        index = VectorIndex.open(tmp_path / "ix") if VectorIndex.exists(tmp_path / "ix") else \
            VectorIndex.create(tmp_path / "ix", model_id=fake_encoder.model_id, dim=fake_encoder.dim, encoder={})
        with EmbeddingCache(tmp_path / "ix" / "cache.sqlite") as cache:
            from scenefit.images import _fetch

            orig = _fetch.ImageFetcher.__init__

            def init(self, config=None, *, transport=None):
                orig(self, config, transport=httpx.MockTransport(handler))

            _fetch.ImageFetcher.__init__ = init
            try:
                return run_ingest(
                    Catalog.read(path), index, fake_encoder, cache,
                    config=IngestConfig(**kw), fetch=FetchConfig(retries=0, cache_dir=tmp_path / "imgcache"),
                    progress=NullProgress(),
                )
            finally:
                _fetch.ImageFetcher.__init__ = orig

    return run, catalog, tmp_path, requests


def test_every_row_is_accounted_for(setup):
    run, _, tmp_path, _ = setup
    r = run()
    assert r.read == 8
    assert r.indexed == 4  # a, b, c, d
    reasons = {e.id: e.reason for e in r.rejected}
    assert r.read == r.indexed + len(r.rejected)
    assert "missing id" in reasons[None]
    assert reasons["a"].startswith("duplicate id")
    assert reasons["g"].startswith("image not found")
    assert reasons["f"].startswith("image unreadable")
    index = VectorIndex.open(tmp_path / "ix")
    assert sorted(index.ids()) == ["a", "b", "c", "d"]
    assert index.get("a").attributes == {"price": "10"}
    assert index.get("a").category == "vase" and index.get("a").colours == ["gold"]


def test_failed_url_image_falls_back_to_text_and_is_reported(setup, fake_encoder):
    run, _, tmp_path, requests = setup
    r = run()
    assert [f.id for f in r.image_failures] == ["d"]
    assert "503" in r.image_failures[0].error
    assert requests == ["https://img.example/d.jpg"]
    index = VectorIndex.open(tmp_path / "ix")
    rec = index.get("d")
    assert rec.image_status.startswith("failed")
    vec = index.vectors([rec.key])[0]
    np.testing.assert_allclose(vec, fake_encoder.encode_texts([rec.text])[0], atol=1e-6)
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)
    assert index.get("a").image_status == "ok"


def test_report_file_holds_rejections_and_failures(setup):
    run, *_ = setup
    r = run()
    data = json.loads(open(r.report_path, encoding="utf-8").read())
    assert data["read"] == 8 and data["rejected_count"] == 4
    assert {e["id"] for e in data["rejected"]} == {None, "a", "f", "g"}
    assert data["image_failures"][0]["id"] == "d"


def test_reingest_unchanged_embeds_nothing(setup, fake_encoder):
    run, *_ = setup
    first = run()
    assert first.embedded == 4 and first.added == 4
    texts, images = fake_encoder.text_calls, fake_encoder.image_calls
    again = run()
    assert again.embedded == 0 and again.cached == 4 and again.unchanged == 4
    assert (fake_encoder.text_calls, fake_encoder.image_calls) == (texts, images)


def test_changed_row_reembeds_only_that_row(setup, fake_encoder):
    run, catalog, tmp_path, _ = setup
    run()
    text = catalog.read_text("utf-8").replace("RUSTIC WOOD CHEST, NATURAL", "RUSTIC WOOD CHEST, BLACK")
    text = text.replace("B1,S/2", "B9,S/2")  # metadata-only change: no re-embed, but updated
    catalog.write_text(text, "utf-8")
    before = fake_encoder.text_calls
    r = run()
    assert r.embedded == 1 and fake_encoder.text_calls - before == 1
    assert r.updated == 2 and r.unchanged == 2
    index = VectorIndex.open(tmp_path / "ix")
    assert index.get("c").colours == ["black"] and index.get("b").sku_id == "B9"


def test_sync_removes_products_gone_from_catalog(setup, tmp_path):
    run, _, tmp_path, _ = setup
    run()
    smaller = _write_catalog(tmp_path / "small.csv", [["a", "A1", "CERAMIC VASE, GOLD", "img/red.png", "10"]])
    kept = run(smaller, sync=False)
    assert kept.removed == 0 and len(VectorIndex.open(tmp_path / "ix")) == 4
    r = run(smaller)
    assert r.removed == 3 and VectorIndex.open(tmp_path / "ix").ids() == ["a"]


def test_image_weight_mixes_text_and_image(setup, fake_encoder):
    run, _, tmp_path, _ = setup
    run(image_weight=0.5)
    index = VectorIndex.open(tmp_path / "ix")
    rec = index.get("a")
    from PIL import Image

    t = fake_encoder.encode_texts([rec.text])[0]
    i = fake_encoder.encode_images([Image.open(tmp_path / "img" / "red.png")])[0]
    expected = (t + i) / np.linalg.norm(t + i)
    np.testing.assert_allclose(index.vectors([rec.key])[0], expected, atol=1e-5)


def test_rows_sharing_a_bad_local_image_are_all_rejected(tmp_path, fake_encoder):
    # Same description and same undecodable file: one content hash, two rows.
    (tmp_path / "bad.jpg").write_text("this is text, not a jpeg")
    path = _write_catalog(tmp_path / "c.csv", [
        ["1", "a", "CERAMIC VASE", "bad.jpg", ""], ["2", "b", "CERAMIC VASE", "bad.jpg", ""],
        ["3", "c", "CERAMIC VASE", "", ""],
    ])
    r = _run_plain(tmp_path, path, fake_encoder)
    assert sorted(e.id for e in r.rejected) == ["1", "2"]
    assert all("image unreadable" in e.reason for e in r.rejected)
    assert r.indexed == 1 and r.read == 3
    again = _run_plain(tmp_path, path, fake_encoder)  # known bad bytes: same verdict, no decode
    assert sorted(e.id for e in again.rejected) == ["1", "2"] and again.embedded == 0


def test_undecodable_download_is_reported_for_every_row_and_every_time(tmp_path, fake_encoder):
    good = tmp_path / "g.png"
    from PIL import Image

    Image.new("RGB", (40, 40), "red").save(good)
    truncated = good.read_bytes()[:50]

    def handler(request):
        return httpx.Response(200, content=truncated, headers={"content-type": "image/png"})

    url = "https://img.example/t.png"
    path = _write_catalog(tmp_path / "c.csv", [["1", "a", "VASE", url, ""], ["2", "b", "VASE", url, ""]])
    for _ in range(2):
        r = _run_plain(tmp_path, path, fake_encoder, transport=httpx.MockTransport(handler))
        assert sorted(f.id for f in r.image_failures) == ["1", "2"]
        assert all(url in f.error and "truncated" in f.error for f in r.image_failures)
        index = VectorIndex.open(tmp_path / "ix")
        assert {index.get(i).image_status.split(":")[0] for i in ("1", "2")} == {"failed"}
    assert r.unchanged == 2 and r.updated == 0


def test_changing_image_weight_reembeds(tmp_path, fake_encoder, write_image):
    write_image(tmp_path / "red.png")
    path = _write_catalog(tmp_path / "c.csv", [["1", "a", "VASE", "red.png", ""], ["2", "b", "BOWL", "", ""]])
    _run_plain(tmp_path, path, fake_encoder, image_weight=0.5)
    r = _run_plain(tmp_path, path, fake_encoder, image_weight=0.8)
    assert r.embedded == 1 and r.updated == 1 and r.unchanged == 1  # text-only row unaffected


def _run_plain(tmp_path, path, encoder, transport=None, **kw):
    index = VectorIndex.open(tmp_path / "ix") if VectorIndex.exists(tmp_path / "ix") else \
        VectorIndex.create(tmp_path / "ix", model_id=encoder.model_id, dim=encoder.dim, encoder={})
    from scenefit.images import _fetch

    orig = _fetch.ImageFetcher.__init__
    if transport is not None:
        _fetch.ImageFetcher.__init__ = lambda self, config=None, *, transport_=transport, **_: orig(
            self, config, transport=transport_)
    try:
        with EmbeddingCache(tmp_path / "ix" / "cache.sqlite") as cache:
            return run_ingest(
                Catalog.read(path), index, encoder, cache, config=IngestConfig(**kw),
                fetch=FetchConfig(retries=0, cache_dir=tmp_path / "imgcache"),
                progress=NullProgress(),
            )
    finally:
        _fetch.ImageFetcher.__init__ = orig


def test_appearance_vectors_are_stored_and_cached(tmp_path, appearance_encoder, write_image):
    write_image(tmp_path / "red.png", (200, 30, 30))
    write_image(tmp_path / "blue.png", (30, 30, 200))
    path = _write_catalog(tmp_path / "c.csv", [
        ["1", "a", "VASE", "red.png", ""], ["2", "b", "BOWL", "blue.png", ""], ["3", "c", "CHEST", "", ""],
        ["4", "d", "LAMP", "red.png", ""],  # same photo as row 1: one appearance computation
    ])
    VectorIndex.create(tmp_path / "ix", model_id=appearance_encoder.model_id, dim=appearance_encoder.dim,
                       encoder={}, appearance_dim=appearance_encoder.appearance_dim).save()
    _run_plain(tmp_path, path, appearance_encoder)
    index = VectorIndex.open(tmp_path / "ix")
    assert {index.record(k).id for k in index.appearance._keys} == {"1", "2", "4"}
    assert appearance_encoder.appearance_calls == 2  # red and blue photos, each once
    again = _run_plain(tmp_path, path, appearance_encoder)
    assert again.unchanged == 4 and appearance_encoder.appearance_calls == 2  # served from the cache


def test_a_runner_that_loses_items_is_an_error_not_an_endless_loop(tmp_path, fake_encoder):
    from scenefit import BackendError
    from scenefit.pipelines._ingest import LocalRunner

    class Lossy(LocalRunner):
        name = "lossy"

        def embed(self, items):
            for out in super().embed(items):
                out.vectors.pop(next(iter(out.vectors)))  # e.g. a shard this machine cannot read
                yield out

    catalog = _write_catalog(tmp_path / "cat.csv", [[f"p{i}", f"S{i}", f"VASE NUMBER {i}", "", ""] for i in range(5)])
    index = VectorIndex.create(tmp_path / "ix", model_id=fake_encoder.model_id, dim=fake_encoder.dim, encoder={})
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        with pytest.raises(BackendError, match="1 of 5 products came back from the lossy runner without a vector"):
            run_ingest(Catalog.read(catalog), index, fake_encoder, cache, config=IngestConfig(),
                       fetch=FetchConfig(cache_dir=tmp_path / "img"), progress=NullProgress(),
                       runner=Lossy(fake_encoder, IngestConfig()))
        assert cache.count() == 4  # what came back is kept for the next try
    assert not VectorIndex.exists(tmp_path / "ix")  # nothing half-written


# -- a sync that would empty much of the index is refused unless asked for -------------------

def _products(n, start=0, image=""):
    return [[f"p{i}", f"S{i}", f"VASE NUMBER {i}", image, ""] for i in range(start, start + n)]


def _counting_transport():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(503)

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize(("total", "kept", "refused"), [
    (50, 39, True),    # 11 gone: over 10 and over a fifth
    (50, 40, False),   # 10 gone: not over 10
    (100, 89, False),  # 11 gone: not over a fifth
    (100, 79, True),   # 21 gone
])
def test_sync_refuses_to_remove_a_large_share(tmp_path, fake_encoder, total, kept, refused):
    _run_plain(tmp_path, _write_catalog(tmp_path / "all.csv", _products(total)), fake_encoder)
    smaller = _write_catalog(tmp_path / "some.csv", _products(kept))
    if not refused:
        assert _run_plain(tmp_path, smaller, fake_encoder).removed == total - kept
        return
    with pytest.raises(CatalogError) as exc:
        _run_plain(tmp_path, smaller, fake_encoder)
    msg = str(exc.value)
    assert f"would remove {total - kept} of the index's {total} products" in msg
    assert f"'p{kept}'" in msg and "--allow-shrink" in msg and "--keep-missing" in msg
    assert len(VectorIndex.open(tmp_path / "ix")) == total


def test_shrink_is_refused_before_fetching_or_embedding_and_leaves_the_index(tmp_path, fake_encoder):
    _run_plain(tmp_path, _write_catalog(tmp_path / "all.csv", _products(200)), fake_encoder)
    before = VectorIndex.open(tmp_path / "ix").manifest.generation
    # One row left, with a changed description and a URL image: nothing of it may start.
    one = _write_catalog(tmp_path / "one.csv", [["p0", "S0", "CHANGED VASE", "https://img.example/0.jpg", ""]])
    transport, requests = _counting_transport()
    calls = fake_encoder.text_calls
    with pytest.raises(CatalogError, match="would remove 199 of the index's 200 products"):
        _run_plain(tmp_path, one, fake_encoder, transport=transport)
    assert requests == [] and fake_encoder.text_calls == calls
    index = VectorIndex.open(tmp_path / "ix")
    assert index.manifest.generation == before and len(index) == 200
    assert index.get("p0").description == "VASE NUMBER 0"


def test_shrink_names_the_catalogs_rejected_rows(tmp_path, fake_encoder):
    _run_plain(tmp_path, _write_catalog(tmp_path / "all.csv", _products(30)), fake_encoder)
    path = tmp_path / "quote.csv"
    lines = ["id,sku_id,description,primary_image,price"] + [f"p{i},S{i},VASE NUMBER {i},," for i in range(30)]
    lines[2] = 'p1,S1,"VASE NUMBER 1,,'
    lines[25] = 'p24,S24,10" VASE,,'  # closes the stray quote: 23 products swallowed
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogError, match=r"1 catalog row\(s\) were rejected \(row 2: a quoted field opened on line 3"):
        _run_plain(tmp_path, path, fake_encoder)
    assert len(VectorIndex.open(tmp_path / "ix")) == 30


def test_allow_shrink_and_no_sync_go_ahead(tmp_path, fake_encoder):
    _run_plain(tmp_path, _write_catalog(tmp_path / "all.csv", _products(50)), fake_encoder)
    few = _write_catalog(tmp_path / "few.csv", _products(5))
    assert _run_plain(tmp_path, few, fake_encoder, sync=False).removed == 0
    assert len(VectorIndex.open(tmp_path / "ix")) == 50
    assert _run_plain(tmp_path, few, fake_encoder, allow_shrink=True).removed == 45
    assert sorted(VectorIndex.open(tmp_path / "ix").ids()) == [f"p{i}" for i in range(5)]


def test_shrink_from_rows_rejected_for_unreadable_images_is_refused_too(tmp_path, fake_encoder):
    # Every id is in the catalog, but most rows fail only once their images are read.
    _run_plain(tmp_path, _write_catalog(tmp_path / "all.csv", _products(40)), fake_encoder)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    rows = _products(10) + [[f"p{i}", f"S{i}", f"NEW BOWL {i}", "bad.png", ""] for i in range(10, 40)]
    with pytest.raises(CatalogError, match=r"would remove 30 of the index's 40 products.*image unreadable"):
        _run_plain(tmp_path, _write_catalog(tmp_path / "bad.csv", rows), fake_encoder)
    index = VectorIndex.open(tmp_path / "ix")
    assert len(index) == 40 and index.get("p10").description == "VASE NUMBER 10"
