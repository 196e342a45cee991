"""Product reads and writes: auth, validation, atomicity, and visibility across processes."""

from __future__ import annotations

import json
import threading

import pytest

from scenefit.engine import Engine
from scenefit.index import VectorIndex

from .conftest import AUTH, make_client, png_bytes, wait_ready


def _generation(index_dir) -> int:
    return json.loads((index_dir / "manifest.json").read_text())["generation"]


def test_get_product(client):
    body = client.get("/v1/products/p3").json()
    assert body["id"] == "p3" and body["sku_id"] == "SKU3" and body["attributes"]["price"] == "20.00"
    assert body["category"] == "cushion" and body["image_status"] == "ok"


def test_unknown_product_is_404_json(client):
    resp = client.get("/v1/products/absent")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
def test_writes_need_the_key(client, index_dir, headers):
    gen = _generation(index_dir)
    for resp in (
        client.put("/v1/products/x1", json={"description": "RED LAMP"}, headers=headers),
        client.post("/v1/products:batch", json={"products": [{"id": "x2", "description": "RED LAMP"}]}, headers=headers),
        client.delete("/v1/products/p1", headers=headers),
    ):
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"]["code"] == "unauthorized" and resp.headers["www-authenticate"] == "Bearer"
    assert _generation(index_dir) == gen and client.get("/v1/products/p1").status_code == 200


def test_writes_are_disabled_without_a_configured_key(index_dir):
    with make_client(index_dir, api_key=None) as client:
        assert client.put("/v1/products/x", json={"description": "LAMP"}).status_code == 401
        resp = client.put("/v1/products/x", json={"description": "LAMP"}, headers=AUTH)
        assert resp.status_code == 403 and "SCENEFIT_API_KEY" in resp.json()["error"]["message"]


def test_reads_need_a_key_only_when_configured(index_dir):
    with make_client(index_dir, read_api_key="reader") as client:
        assert client.get("/v1/products/p1").status_code == 401
        assert client.get("/v1/products/p1", headers={"Authorization": "Bearer reader"}).status_code == 200
        assert client.get("/healthz").status_code == 200  # operations stay open


def test_put_adds_a_product_that_match_finds(client, index_dir):
    gen = _generation(index_dir)
    resp = client.put("/v1/products/new-1", headers=AUTH,
                      json={"sku_id": "N1", "description": "GREEN VELVET OTTOMAN 18X18", "price": 99, "brand": "acme"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["added"] == 1 and resp.json()["generation"] == gen + 1
    got = client.get("/v1/products/new-1").json()
    assert got["category"] == "ottoman" and got["colours"] == ["green"] and got["attributes"]["price"] == 99
    match = client.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")},
                        data={"filters": json.dumps({"attributes": {"id": "new-1"}})}).json()
    assert [r["id"] for r in match["recommendations"]] == ["new-1"]


def test_put_same_product_again_changes_nothing_and_replacing_updates(client):
    body = {"description": "GREEN VELVET OTTOMAN"}
    client.put("/v1/products/n", json=body, headers=AUTH)
    again = client.put("/v1/products/n", json=body, headers=AUTH).json()
    assert again["unchanged"] == 1 and again["embedded"] == 0
    changed = client.put("/v1/products/n", json={"description": "BLUE VELVET OTTOMAN"}, headers=AUTH).json()
    assert changed["updated"] == 1
    assert client.get("/v1/products/n").json()["colours"] == ["blue"]


@pytest.mark.parametrize("body, needle", [
    ({"sku_id": "x"}, "description: Field required"),
    ({"description": ""}, "description"),
    ({"description": "LAMP", "primary_image": "/etc/passwd"}, "http(s) URL"),
    ({"description": "LAMP", "id": "other"}, "differs"),
])
def test_invalid_product_is_422_and_nothing_changes(client, index_dir, body, needle):
    gen = _generation(index_dir)
    resp = client.put("/v1/products/bad", json=body, headers=AUTH)
    assert resp.status_code == 422 and needle in resp.json()["error"]["message"], resp.text
    assert _generation(index_dir) == gen and client.get("/v1/products/bad").status_code == 404


def test_batch_is_all_or_nothing(client, index_dir):
    gen = _generation(index_dir)
    bad = client.post("/v1/products:batch", headers=AUTH, json={"products": [
        {"id": "b1", "description": "RED RUG"}, {"id": "b2", "description": "BLUE RUG", "primary_image": "C:/x.png"}]})
    assert bad.status_code == 422 and "product 2 (b2)" in bad.json()["error"]["message"]
    assert _generation(index_dir) == gen and client.get("/v1/products/b1").status_code == 404
    dup = client.post("/v1/products:batch", headers=AUTH, json={"products": [
        {"id": "b1", "description": "RED RUG"}, {"id": "b1", "description": "BLUE RUG"}]})
    assert dup.status_code == 422 and "duplicate id" in dup.json()["error"]["message"]
    ok = client.post("/v1/products:batch", headers=AUTH, json={"products": [
        {"id": "b1", "description": "RED RUG"}, {"id": "b2", "description": "BLUE RUG"}]})
    assert ok.status_code == 200 and ok.json()["added"] == 2 and ok.json()["generation"] == gen + 1
    assert client.post("/v1/products:batch", headers=AUTH, json={"products": []}).status_code == 422


def test_product_image_urls_are_guarded(client):
    resp = client.put("/v1/products/img", headers=AUTH,
                      json={"description": "RED LAMP", "primary_image": "http://169.254.169.254/latest/meta-data/"})
    assert resp.status_code == 200  # kept text-only, like a catalog row whose image fails
    failure = resp.json()["image_failures"][0]
    assert failure["id"] == "img" and "non-public" in failure["error"]
    assert client.get("/v1/products/img").json()["image_status"].startswith("failed")


def test_delete(client, index_dir):
    gen = _generation(index_dir)
    resp = client.delete("/v1/products/p2", headers=AUTH)
    assert resp.status_code == 200 and resp.json() == {"deleted": "p2", "generation": gen + 1}
    assert client.get("/v1/products/p2").status_code == 404
    assert client.delete("/v1/products/p2", headers=AUTH).status_code == 404


def test_other_serving_processes_see_writes_without_restart(index_dir):
    """Two services on one folder stand for two processes: each loads the index itself."""
    with make_client(index_dir) as writer, make_client(index_dir) as reader:
        wait_ready(writer), wait_ready(reader)
        assert reader.get("/v1/products/late").status_code == 404
        writer.put("/v1/products/late", json={"description": "WHITE CERAMIC LAMP"}, headers=AUTH)
        assert reader.get("/v1/products/late").json()["description"] == "WHITE CERAMIC LAMP"
        writer.delete("/v1/products/p0", headers=AUTH)
        match = reader.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")},
                            data={"k": "100"}).json()
        ids = {r["id"] for r in match["recommendations"]}
        assert "late" in ids and "p0" not in ids and match["index"]["count"] == 16


def test_concurrent_writers_lose_nothing(index_dir):
    """Writers in several threads of two services: every write lands, the index stays whole."""
    with make_client(index_dir) as one, make_client(index_dir) as two:
        errors = []

        def write(client, prefix):
            for i in range(4):
                r = client.put(f"/v1/products/{prefix}{i}", json={"description": f"RED LAMP {prefix} {i}"}, headers=AUTH)
                if r.status_code != 200:
                    errors.append(r.text)

        threads = [threading.Thread(target=write, args=(c, p)) for c, p in ((one, "a"), (two, "b"), (one, "c"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
    ids = set(VectorIndex.open(index_dir).ids())
    assert {f"{p}{i}" for p in "abc" for i in range(4)} <= ids and len(ids) == 16 + 12


def test_postgres_store_is_shared_by_serving_processes(tmp_path, postgres_url, fake_backend, write_image):
    """With SCENEFIT_DATABASE_URL, product rows live in PostgreSQL (not in the folder)."""
    catalog = tmp_path / "c.csv"
    catalog.write_text("id,sku_id,description,primary_image,price\n"
                       "a,1,RED CERAMIC VASE,,10\nb,2,BLUE WOOL RUG,,20\n")
    Engine(tmp_path / "ix", database_url=postgres_url, log=lambda m: None).ingest(catalog)
    index = VectorIndex.open(tmp_path / "ix", database_url=postgres_url)
    assert index.manifest.store == "postgres" and not (tmp_path / "ix" / "products.sqlite").exists()
    try:
        with make_client(tmp_path / "ix", database_url=postgres_url) as one, \
                make_client(tmp_path / "ix", database_url=postgres_url) as two:
            assert one.put("/v1/products/c", json={"description": "GREEN LINEN CUSHION", "price": 5},
                           headers=AUTH).status_code == 200
            assert two.get("/v1/products/c").json()["colours"] == ["green"]
            assert two.get("/v1/products/b").json()["attributes"]["price"] == "20"
            assert one.delete("/v1/products/a", headers=AUTH).status_code == 200
            assert two.get("/v1/products/a").status_code == 404
        with make_client(tmp_path / "ix") as no_url:  # the index says postgres: the URL is required
            resp = no_url.get("/v1/products/b")
            assert resp.status_code == 503 and "SCENEFIT_DATABASE_URL" in resp.json()["error"]["message"]
    finally:
        from scenefit.index._records import PostgresStore

        PostgresStore(postgres_url, index.manifest.uid).drop_index()


def test_product_photo_is_served_from_what_was_ingested(client):
    resp = client.get("/v1/products/p0/image")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(resp.content)).size == (64, 64)
    client.put("/v1/products/textonly", json={"description": "RED LAMP"}, headers=AUTH)
    assert client.get("/v1/products/textonly/image").status_code == 404
    assert client.get("/v1/products/absent/image").status_code == 404
