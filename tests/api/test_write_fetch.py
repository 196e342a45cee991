"""URL fetching through the API: product images of writes (outside the write lock, within a
deadline) and scene image_urls that are not valid URLs."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from scenefit._settings import Settings
from scenefit.api import Service, create_app
from scenefit.engine import Engine
from scenefit.images import FetchConfig

from .conftest import AUTH, KEY, png_bytes, wait_ready

DEADLINE_S = 3.0


@pytest.fixture
def writer(index_dir):
    """A service whose writes may fetch from 127.0.0.1, with a short write-fetch deadline."""
    fetch = FetchConfig(public_only=True, allow_networks=("127.0.0.0/8",), total_deadline_s=DEADLINE_S)
    engine = Engine(index_dir, fetch=fetch, log=lambda m: None)
    service = Service(index_dir, Settings(api_key=KEY), engine=engine)
    with TestClient(create_app(service=service), raise_server_exceptions=False) as client:
        wait_ready(client)
        yield client


@pytest.fixture
def dripping(http_server):
    """``/drip.png``: an image host that sends a byte every 0.25 s (for 8 s at most);
    ``started`` is set once a request for it has arrived."""
    started = threading.Event()

    def drip(h):
        started.set()
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.end_headers()
        for _ in range(32):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.25)

    http_server.route("/drip.png", drip)
    http_server.started = started
    return http_server


def test_a_slow_image_host_holds_up_neither_other_writes_nor_its_own_for_long(writer, dripping):
    answers = {}

    def slow_put():
        start = time.monotonic()
        answers["slow"] = writer.put("/v1/products/slow", headers=AUTH, json={
            "description": "RED CERAMIC LAMP", "primary_image": dripping.url("/drip.png")})
        answers["slow_s"] = time.monotonic() - start

    thread = threading.Thread(target=slow_put)
    thread.start()
    try:
        assert dripping.started.wait(10), "the dripping image was never asked for"
        start = time.monotonic()
        quick = writer.put("/v1/products/quick", headers=AUTH, json={"description": "BLUE VELVET OTTOMAN"})
        quick_s = time.monotonic() - start
    finally:
        thread.join(15)
    assert quick.status_code == 200 and quick.json()["added"] == 1, quick.text
    # Not queued behind the write lock until the other one's download gives up.
    assert quick_s < DEADLINE_S / 2
    slow = answers["slow"]
    assert slow.status_code == 200, slow.text
    assert answers["slow_s"] < DEADLINE_S + 3
    failures = slow.json()["image_failures"]
    assert [f["id"] for f in failures] == ["slow"] and "took longer than 3s" in failures[0]["error"]
    assert writer.get("/v1/products/slow").json()["image_status"].startswith("failed")


def test_a_batch_keeps_its_good_images_and_downloads_each_once(writer, dripping):
    body, hits = png_bytes(), []
    dripping.serve("/good.png", body, hits=hits)
    resp = writer.post("/v1/products:batch", headers=AUTH, json={"products": [
        {"id": "g", "description": "RED RUG", "primary_image": dripping.url("/good.png")},
        {"id": "d", "description": "BLUE RUG", "primary_image": dripping.url("/drip.png")}]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["added"] == 2 and [f["id"] for f in resp.json()["image_failures"]] == ["d"]
    assert hits == ["/good.png"]  # fetched before the lock, found in the cache under it
    assert writer.get("/v1/products/g").json()["image_status"] == "ok"
    assert writer.get("/v1/products/g/image").content == body


def test_the_write_fetch_deadline_is_a_setting_the_service_applies(index_dir):
    assert Settings().write_fetch_timeout_s == 15
    settings = Settings.from_env({"SCENEFIT_WRITE_FETCH_TIMEOUT_S": "2.5"})
    assert settings.write_fetch_timeout_s == 2.5
    assert Service(index_dir, settings).engine.fetch_config.total_deadline_s == 2.5


INVALID = ["http://0177.0.0.1/", "http://256.1.1.1/", "http://a..b/", "http://" + "a" * 300 + ".com/x.png",
           "http://2130706433/", "http://0x7f.1/", "http://[::127.0.0.1]/", "http://[64:ff9b::a00:1]/"]


@pytest.mark.parametrize("url", INVALID)
def test_an_invalid_or_disguised_image_url_is_a_400(client, url):
    resp = client.post("/v1/match", json={"image_url": url})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == "unsafe_url"


@pytest.mark.parametrize("url", INVALID)
def test_a_product_with_an_invalid_image_url_is_written_text_only(client, url):
    resp = client.put("/v1/products/bad-url", headers=AUTH, json={"description": "RED LAMP", "primary_image": url})
    assert resp.status_code == 200, resp.text
    assert [f["id"] for f in resp.json()["image_failures"]] == ["bad-url"]


def test_further_photos_round_trip_and_one_that_fails_leaves_the_others(writer, dripping):
    red = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(red, format="PNG")
    dripping.serve("/front.png", png_bytes())
    dripping.serve("/side.png", red.getvalue())
    images = [dripping.url("/side.png"), dripping.url("/gone.png")]  # gone: a 404
    resp = writer.put("/v1/products/multi", headers=AUTH, json={
        "description": "RED CERAMIC VASE", "primary_image": dripping.url("/front.png"), "images": images})
    assert resp.status_code == 200, resp.text
    assert resp.json()["added"] == 1 and resp.json()["image_failures"] == []
    assert [f["image"] for f in resp.json()["further_image_failures"]] == [dripping.url("/gone.png")]
    got = writer.get("/v1/products/multi").json()
    assert got["image_status"] == "ok" and got["attributes"]["images"] == images
    engine = writer.app.state.service.engine
    files = engine.product_images("multi")
    assert [Path(f).read_bytes() for f in files] == [png_bytes(), red.getvalue()]
    assert engine.product_image("multi") == files[0]  # the primary photo, as before
    index = engine.index
    assert index.photo_counts()[index.get("multi").key] == 2
    # Match answers carry the list with the product's other attributes.
    match = writer.post("/v1/match", files={"image": ("s.png", png_bytes(), "image/png")},
                        data={"filters": '{"attributes": {"id": "multi"}}'}).json()
    assert match["recommendations"][0]["attributes"]["images"] == images
    # The same again: nothing to embed; a |-separated string is the same list.
    again = writer.put("/v1/products/multi", headers=AUTH, json={
        "description": "RED CERAMIC VASE", "primary_image": dripping.url("/front.png"), "images": " | ".join(images)})
    assert again.json()["unchanged"] == 1 and again.json()["embedded"] == 0


def test_further_photos_must_be_urls(writer):
    resp = writer.put("/v1/products/local", headers=AUTH, json={"description": "RED VASE", "images": ["/etc/hosts"]})
    assert resp.status_code == 422 and "each of images must be an http(s) URL" in resp.text
