"""An app over a small index built with the fake appearance encoder (fast, deterministic)."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from scenefit._settings import Settings
from scenefit.api import Service, create_app, serving  # noqa: F401  (serving: for the tests here)
from scenefit.engine import Engine

KEY = "test-write-key"
COLOURS = {"red": (200, 30, 30), "blue": (30, 40, 200), "green": (30, 160, 60), "white": (235, 235, 235)}
KINDS = ["cushion", "vase", "lamp", "rug"]


@pytest.fixture
def fake_backend(monkeypatch, appearance_encoder):
    monkeypatch.setattr("scenefit.engine.build_encoder",
                        lambda c: (appearance_encoder, c.model_copy(update={"backend": "offline"}), "fake"))
    return appearance_encoder


@pytest.fixture
def index_dir(tmp_path, fake_backend, write_image):
    rows = []
    for i, (kind, colour) in enumerate((k, c) for k in KINDS for c in COLOURS):
        image = write_image(tmp_path / "img" / f"{i}.png", COLOURS[colour], size=(64, 64))
        rows.append({"id": f"p{i}", "sku_id": f"SKU{i}", "description": f"{colour.upper()} CERAMIC {kind.upper()}",
                     "primary_image": str(image), "price": f"{5 + 5 * i}.00", "brand": "acme" if i % 2 else "zen"})
    path = tmp_path / "catalog.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    Engine(tmp_path / "index", log=lambda m: None).ingest(path)
    return tmp_path / "index"


def make_client(index_dir, **settings) -> TestClient:
    service = Service(index_dir, Settings(**{"api_key": KEY, **settings}))
    return TestClient(create_app(service=service), raise_server_exceptions=False)


@pytest.fixture
def client(index_dir):
    with make_client(index_dir) as c:
        wait_ready(c)
        yield c


def wait_ready(c: TestClient, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if c.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready: {c.get('/readyz').json()}")


def png_bytes(colour=(200, 30, 30), size=(160, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


AUTH = {"Authorization": f"Bearer {KEY}"}
