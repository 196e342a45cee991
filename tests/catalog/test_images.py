"""The optional ``images`` column: further photos of a product, read from every format and
from the HTTP API's rows, with the primary image's rules for what a reference may be."""

from __future__ import annotations

import json

import pytest

from scenefit.catalog import MAX_IMAGES, Catalog

HEADER = "id,sku_id,description,primary_image,images"


def _csv(tmp_path, *rows: str, name="c.csv", header=HEADER):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_json_list_and_pipe_separated_and_empty(tmp_path):
    path = _csv(tmp_path,
                '1,s1,GOLD VASE,,"[""https://x.test/a.jpg"", ""https://x.test/b.jpg""]"',
                "2,s2,GOLD VASE,,https://x.test/c.jpg | https://x.test/d.jpg|",
                "3,s3,GOLD VASE,,",
                "4,s4,GOLD VASE,,[]")
    cat = Catalog.read(path)
    assert not cat.rejected
    by_id = {p.id: p for p in cat.products}
    assert by_id["1"].images == ["https://x.test/a.jpg", "https://x.test/b.jpg"]
    assert by_id["2"].images == ["https://x.test/c.jpg", "https://x.test/d.jpg"]
    assert by_id["3"].images == [] and by_id["4"].images == []
    # Records return the list as an attribute; a product without one has no such attribute.
    assert by_id["1"].attributes["images"] == by_id["1"].images
    assert "images" not in by_id["3"].attributes and "images" not in by_id["4"].attributes


def test_local_paths_resolve_against_the_catalog_folder_and_missing_ones_do_not_reject(tmp_path, write_image):
    write_image(tmp_path / "img" / "front.png")
    path = _csv(tmp_path, "1,s1,GOLD VASE,img/front.png,img/side.png|img/front.png|img/side.png")
    cat = Catalog.read(path)
    assert not cat.rejected
    # The missing file is judged at ingest (reported, the product keeps its other photos);
    # the primary and a repeat are listed once.
    assert cat.products[0].images == [str(tmp_path / "img" / "side.png")]


@pytest.mark.parametrize("value, reason", [
    ('"[""a.jpg"", 3]"', "images has a number among its entries"),
    ('"[""a.jpg"""', "images is not a valid JSON list"),
    ("ftp://x.test/a.jpg", "unsupported image reference 'ftp://x.test/a.jpg'"),
    ('"{""a"": 1}"', "images is an object, not a list"),
])
def test_bad_images_values_reject_their_row(tmp_path, value, reason):
    path = _csv(tmp_path, f"1,s1,GOLD VASE,,{value}", "2,s2,GOLD VASE,,")
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["2"]
    assert reason in cat.rejected[0].reason


def test_too_many_images_is_a_size_rule(tmp_path):
    many = "|".join(f"https://x.test/{i}.jpg" for i in range(MAX_IMAGES + 1))
    cat = Catalog.read(_csv(tmp_path, f"1,s1,GOLD VASE,,{many}"))
    assert cat.rejected[0].reason == f"images lists {MAX_IMAGES + 1} photos (limit {MAX_IMAGES})"


def test_jsonl_and_parquet_lists(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": "1", "sku_id": "s", "description": "GOLD VASE", "primary_image": "",
             "Images": ["https://x.test/a.jpg"]},
            {"id": "2", "sku_id": "s", "description": "GOLD VASE", "primary_image": "", "Images": []}]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    for name in ("c.jsonl", "c.parquet"):
        cat = Catalog.read(tmp_path / name)
        assert [p.images for p in cat.products] == [["https://x.test/a.jpg"], []], name
        # one spelling in records, whatever the column's
        assert cat.products[0].attributes == {"images": ["https://x.test/a.jpg"]}


def test_api_rows_take_urls_only():
    ok = Catalog.from_records([{"id": "1", "description": "GOLD VASE", "images": ["https://x.test/a.jpg"]}])
    assert ok.products[0].images == ["https://x.test/a.jpg"]
    bad = Catalog.from_records([{"id": "1", "description": "GOLD VASE", "images": "/etc/passwd"}])
    assert bad.rejected[0].reason == "each of images must be an http(s) URL"
    none = Catalog.from_records([{"id": "1", "description": "GOLD VASE", "images": None}])
    assert none.products[0].images == [] and "images" not in none.products[0].attributes
