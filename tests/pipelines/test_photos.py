"""Several photos per product at ingest: every photo fetched and embedded in the appearance
space, a failed further photo reported while the product keeps its others, and a re-ingest
that embeds only what changed."""

import csv

import httpx
import numpy as np
import pytest
from PIL import Image

from scenefit import Catalog, FetchConfig, IngestConfig
from scenefit._progress import NullProgress
from scenefit.embed import EmbeddingCache
from scenefit.index import VectorIndex
from scenefit.pipelines import run_ingest


@pytest.fixture
def ingest(tmp_path, appearance_encoder, write_image, monkeypatch):
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200)), ("green", (30, 200, 30)),
                         ("white", (250, 250, 250))):
        write_image(tmp_path / "img" / f"{name}.png", colour)
    (tmp_path / "img" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    enc = appearance_encoder
    VectorIndex.create(tmp_path / "ix", model_id=enc.model_id, dim=enc.dim, encoder={},
                       appearance_dim=enc.appearance_dim).save()

    from scenefit.images import _fetch

    orig = _fetch.ImageFetcher.__init__

    def init(self, config=None, *, transport=None):  # every download fails: no network in tests
        orig(self, config, transport=httpx.MockTransport(lambda request: httpx.Response(503)))

    monkeypatch.setattr(_fetch.ImageFetcher, "__init__", init)

    def run(rows):
        path = tmp_path / "cat.csv"
        with path.open("w", newline="") as fh:
            csv.writer(fh).writerows([["id", "sku_id", "description", "primary_image", "images"], *rows])
        index = VectorIndex.open(tmp_path / "ix")
        with EmbeddingCache(tmp_path / "ix" / "cache.sqlite") as cache:
            report = run_ingest(Catalog.read(path), index, enc, cache, config=IngestConfig(),
                                fetch=FetchConfig(retries=0, cache_dir=tmp_path / "imgcache"), progress=NullProgress())
        return report, VectorIndex.open(tmp_path / "ix")

    return run


ROWS = [
    ["p", "P", "GOLD VASE", "img/red.png",
     "img/blue.png|img/missing.png|https://img.example/x.jpg|img/broken.png"],
    ["q", "Q", "GREEN LAMP", "", '["img/green.png"]'],  # its only photo is a further one
    ["r", "R", "RED BOWL", "img/red.png", ""],
]


def _counts(index):
    return {index.record(k).id: n for k, n in index.photo_counts().items()}


def test_failed_further_photos_are_reported_and_the_product_keeps_its_others(ingest, appearance_encoder):
    report, index = ingest(ROWS)
    assert report.indexed == 3 and not report.rejected and not report.image_failures
    assert (report.further_images, report.further_images_ok) == (5, 2)
    failed = {f.image.rsplit("/", 1)[-1]: (f.id, f.error) for f in report.further_image_failures}
    assert set(failed) == {"missing.png", "x.jpg", "broken.png"} and {i for i, _ in failed.values()} == {"p"}
    assert "not found" in failed["missing.png"][1] and "broken.png" in failed["broken.png"][1]
    written = report.to_dict()  # what reports/ingest-*.json holds
    assert written["further_images_ok"] == 2 and len(written["further_image_failures"]) == 3
    assert _counts(index) == {"p": 2, "q": 1, "r": 1}
    p = index.get("p")
    assert p.image_status == "ok" and len(p.attributes["images"]) == 4  # the whole list, resolved
    # p's photos, the primary (red) first: its own key holds red, the derived one blue.
    photos, _ = index.photos(np.array([p.key]))
    red, blue = appearance_encoder.encode_appearance([Image.new("RGB", (4, 4), c) for c in ((200, 30, 30), (30, 30, 200))])
    np.testing.assert_allclose(index.appearance.vectors(photos), [red, blue], atol=1e-6)
    assert index.get("q").image_status == "none"


def test_reingest_embeds_only_a_changed_images_list(ingest, appearance_encoder):
    ingest(ROWS)
    calls = appearance_encoder.appearance_calls
    same, index = ingest(ROWS)
    assert (same.unchanged, same.updated, same.embedded) == (3, 0, 0)
    assert appearance_encoder.appearance_calls == calls
    before = index.get("p").content_hash
    # r gains green (already embedded for q: from the cache) and white (new: one computation).
    changed, index = ingest([*ROWS[:2], ["r", "R", "RED BOWL", "img/red.png", "img/green.png|img/white.png"]])
    assert (changed.unchanged, changed.updated, changed.embedded) == (2, 1, 0)
    assert appearance_encoder.appearance_calls == calls + 1
    assert _counts(index) == {"p": 2, "q": 1, "r": 3}
    assert index.get("p").content_hash == before
    # Dropping the list drops the further photos' vectors.
    dropped, index = ingest([*ROWS[:2], ["r", "R", "RED BOWL", "img/red.png", ""]])
    assert dropped.updated == 1 and _counts(index) == {"p": 2, "q": 1, "r": 1}
