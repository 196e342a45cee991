"""The web page end to end: `scenefit serve` on the demo index, driven by headless Chromium.

Needs Debian's chromium and the Node package in tests/browser (`.ci/run` installs both).
Outside CI the test skips, with the reason, where either is missing; in CI it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from scenefit.embed import EncoderConfig
from scenefit.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
BROWSER = ROOT / "tests" / "browser"
ARTEFACTS = ROOT / "build" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if shutil.which("node") is None:
        return "no node on PATH"
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        return "playwright-core not installed (npm ci --prefix tests/browser)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory, living_room):
    if (why := _missing()) is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(why)
    index = tmp_path_factory.mktemp("serve") / "demo-index"
    Engine(index, encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(
        ROOT / "examples" / "product-catalog.csv")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scenefit = Path(sys.executable).parent / "scenefit"
    log = (tmp_path_factory.mktemp("log") / "serve.log").open("w")
    proc = subprocess.Popen([str(scenefit), "serve", "--index", str(index), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError("server did not become ready:\n" + Path(log.name).read_text()[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def test_page_shows_the_scene_and_the_picks(server, living_room):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "match-page.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run(["node", str(BROWSER / "match_page.mjs"), server, str(living_room), str(shot)],
                         capture_output=True, text=True, timeout=240, cwd=BROWSER)
    assert run.returncode == 0, run.stderr[-3000:]
    shown = json.loads(run.stdout.strip().splitlines()[-1])

    # The same request through the API: the page must show exactly these picks.
    api = httpx.post(f"{server}/v1/match", timeout=120,
                     files={"image": (living_room.name, living_room.read_bytes(), "image/webp")},
                     data={"k": "10", "context": "cosy reading corner"}).json()
    assert [c["id"] for c in shown["cards"]] == [r["id"] for r in api["recommendations"]]
    assert len(shown["cards"]) == 10
    for card, rec in zip(shown["cards"], api["recommendations"]):
        assert card["description"] == rec["description"]
        assert card["reason"] == rec["reason"] and card["reason"]
        assert f"fit {rec['score']:.2f}" in card["score"] and card["hasThumb"]
    top_room = next(iter(api["scene"]["room_type"]))
    assert shown["room"].startswith(top_room) and "living room" in shown["room"]
    assert shown["room"].endswith("a guess") == (api["scene"]["room_source"] == "zero-shot")
    assert len(shown["swatches"]) == len(api["scene"]["colours"]) > 0
    assert not shown["statusIsError"] and "10 picks from 500 products" in shown["status"]
    assert shown["consoleErrors"] == []
    assert shot.is_file() and shot.stat().st_size > 10_000  # the CI artefact


def test_page_and_docs_are_served_offline(server):
    page = httpx.get(f"{server}/").text
    assert "<script src=\"/static/app.js\">" in page and "http" not in page.split("<body>")[1].split("/docs")[0]
    assert httpx.get(f"{server}/static/app.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{server}/static/..%2Fpyproject.toml").status_code == 404
    assert httpx.get(f"{server}/docs").status_code == 200
    spec = httpx.get(f"{server}/openapi.json").json()
    assert {"/v1/match", "/v1/products/{product_id}", "/v1/products:batch", "/healthz", "/readyz",
            "/metrics"} <= set(spec["paths"])
