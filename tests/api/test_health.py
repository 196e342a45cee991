"""Readiness: a process that could not load turns ready once it can; /readyz tells the
generation a request would be answered from."""

from __future__ import annotations

import csv
import time

from PIL import Image

from scenefit.api import _service
from scenefit.engine import Engine

from .conftest import AUTH, make_client, wait_ready


def test_a_process_that_started_before_its_index_turns_ready_once_it_exists(tmp_path, fake_backend,
                                                                            monkeypatch):
    monkeypatch.setattr(_service, "RETRY_WARM_UP_S", 0.05)
    monkeypatch.setattr(_service, "MAX_RETRY_WARM_UP_S", 0.2)
    with make_client(tmp_path / "index") as client:
        deadline = time.monotonic() + 10
        while client.get("/readyz").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.get("/readyz", headers=AUTH).json()["status"] == "error"
        with (tmp_path / "c.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([["id", "sku_id", "description", "primary_image"],
                                      ["p1", "S1", "RED CERAMIC VASE", ""]])
        Engine(tmp_path / "index", log=lambda m: None).ingest(tmp_path / "c.csv")
        wait_ready(client, timeout_s=10)  # no restart
        assert client.get("/readyz").json()["products"] == 1


def test_readyz_reports_the_generation_another_process_wrote(index_dir):
    with make_client(index_dir) as one, make_client(index_dir) as other:
        wait_ready(one)
        wait_ready(other)
        before = other.get("/readyz").json()["generation"]
        resp = one.put("/v1/products/new-1", headers=AUTH, json={"description": "BLUE VELVET CUSHION"})
        assert resp.status_code == 200, resp.text
        ready = other.get("/readyz").json()
        assert ready["generation"] == resp.json()["generation"] == before + 1
        assert ready["products"] == 17


def test_readyz_keeps_a_failed_reload_to_key_holders(index_dir):
    import json

    with make_client(index_dir) as client:
        wait_ready(client)
        manifest = index_dir / "manifest.json"
        data = json.loads(manifest.read_text())
        data["generation"] += 50  # a generation whose files are not there
        manifest.write_text(json.dumps(data))
        resp = client.get("/readyz")
        assert resp.status_code == 503 and resp.json() == {"status": "error"}
        detail = client.get("/readyz", headers=AUTH).json()
        assert detail["status"] == "error" and "InvalidIndexError" in detail["error"]


def test_readyz_names_the_adapter_matches_are_scored_through(index_dir):
    from scenefit.learn import AdapterFitConfig, LabelFreeConfig

    with make_client(index_dir) as client:
        wait_ready(client)
        assert client.get("/readyz").json()["adapter"] is None
    config = LabelFreeConfig(composites=3, fit=AdapterFitConfig(steps=2, batch=2))
    Engine(index_dir, log=lambda m: None).adapt(None, regions="crops", config=config)
    with make_client(index_dir) as client:
        wait_ready(client)
        assert client.get("/readyz").json()["adapter"] == {"source": "composites", "regions": "crops"}
        photo = index_dir.parent / "room.png"
        Image.new("RGB", (200, 160), (90, 100, 110)).save(photo)
        resp = client.post("/v1/match", files={"image": ("room.png", photo.read_bytes(), "image/png")})
        assert resp.status_code == 200, resp.text
        assert resp.json()["scene"]["room_source"] == "zero-shot"


def test_a_serving_process_picks_up_an_adapter_another_process_fitted(index_dir):
    from scenefit.learn import AdapterFitConfig, LabelFreeConfig

    with make_client(index_dir) as client:
        wait_ready(client)
        assert client.get("/readyz").json()["adapter"] is None
        config = LabelFreeConfig(composites=2, fit=AdapterFitConfig(steps=1, batch=2))
        Engine(index_dir, log=lambda m: None).adapt(None, regions="crops", config=config)  # no restart
        assert client.get("/readyz").json()["adapter"] == {"source": "composites", "regions": "crops"}
