"""A serving process on the default runtime never imports torch: `scenefit ingest` builds every
network a query runs, so `Engine.match` and the HTTP service (crops and dense regions, with and
without a context text) only load exported graphs.

Runs in a fresh interpreter, since this test session has long imported torch itself."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from scenefit.embed import EncoderConfig
from scenefit.engine import Engine

pytestmark = pytest.mark.slow

HEAVY = ("torch", "transformers", "sentence_transformers")

SERVE = """
import json, sys
from fastapi.testclient import TestClient
from scenefit import Engine, SceneConfig
from scenefit._settings import Settings
from scenefit.api import Service, create_app

index, photo = sys.argv[1], sys.argv[2]
out = {}
for regions in ("crops", "dense"):
    result = Engine(index, log=lambda m: None, scene=SceneConfig(regions=regions)).match(
        photo, k=3, context="a cosy reading corner")
    out[regions] = [r.id for r in result.recommendations]
with TestClient(create_app(service=Service(index, Settings()))) as client:
    with open(photo, "rb") as fh:
        resp = client.post("/v1/match", files={"image": ("room.webp", fh, "image/webp")}, data={"k": "3"})
    out["http"] = [resp.status_code, [r["id"] for r in resp.json().get("recommendations", [])]]
out["imported"] = sorted(m for m in %r if m in sys.modules)
print(json.dumps(out))
""" % (HEAVY,)


@pytest.fixture(scope="module")
def index(tmp_path_factory, living_room) -> Path:
    """Six products whose photos are parts of the room photo, ingested in this process (which
    exports the graphs into the session's cache, as a user's `scenefit ingest` does)."""
    root = tmp_path_factory.mktemp("no-torch")
    photo = Image.open(living_room).convert("RGB")
    w, h = photo.size
    rows = []
    for i, (x, y) in enumerate((x, y) for x in (0, w // 3, 2 * w // 3) for y in (0, h // 2)):
        path = root / f"p{i}.png"
        photo.crop((x, y, x + w // 3, y + h // 2)).save(path)
        rows.append({"id": f"p{i}", "sku_id": f"S{i}", "description": f"LIVING ROOM PIECE {i}", "primary_image": str(path)})
    catalog = root / "catalog.csv"
    with catalog.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    Engine(root / "index", encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(catalog)
    return root / "index"


def test_serving_on_the_default_runtime_imports_no_torch(index, living_room):
    env = {k: v for k, v in os.environ.items() if k != "SCENEFIT_RUNTIME"}
    run = subprocess.run([sys.executable, "-c", SERVE, str(index), str(living_room)], capture_output=True,
                         text=True, env=env, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(out["crops"]) == len(out["dense"]) == 3
    assert out["http"][0] == 200 and len(out["http"][1]) == 3
    assert out["imported"] == []


def test_the_check_sees_torch_when_torch_runs(index, living_room):
    """The same script under the torch runtime reports torch: the check above can fail."""
    env = {**os.environ, "SCENEFIT_RUNTIME": "torch"}
    run = subprocess.run([sys.executable, "-c", SERVE.replace("log=lambda m: None,", "log=lambda m: None, runtime='torch',"),
                          str(index), str(living_room)], capture_output=True, text=True, env=env, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "torch" in json.loads(run.stdout.strip().splitlines()[-1])["imported"]
