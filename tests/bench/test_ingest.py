"""The ingestion benchmark's generated catalog: paths that resolve wherever bench runs."""

import csv

from scenefit.bench import _ingest
from scenefit.bench._ingest import _catalog, _photos


def test_generated_catalog_names_its_photos_by_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_ingest, "IKEA", tmp_path / "no-benchmark")  # generated photos, as when installed
    work = tmp_path / "w"
    photos = _photos(work.relative_to(tmp_path), 3)  # a relative --work, as the default is
    rows = list(csv.DictReader(_catalog(work / "c.csv", 5, photos).open(encoding="utf-8")))
    assert [r["id"] for r in rows] == [f"b{i}" for i in range(5)] and len({r["description"] for r in rows}) == 5
    for r in rows:
        assert r["primary_image"].startswith("/") and open(r["primary_image"], "rb").read(2) == b"\xff\xd8"
