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
from prometheus_client.parser import text_string_to_metric_families

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


@pytest.fixture(scope="module")
def shown(server, living_room):
    """What the page shows: after the upload, then after the shopper's feedback on three cards."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "match-page.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run(["node", str(BROWSER / "match_page.mjs"), server, str(living_room), str(shot)],
                         capture_output=True, text=True, timeout=240, cwd=BROWSER)
    assert run.returncode == 0, run.stderr[-3000:]
    page = json.loads(run.stdout.strip().splitlines()[-1])
    page["screenshot"] = shot
    return page


def test_page_shows_the_scene_and_the_picks(server, living_room, shown):
    shot = shown["screenshot"]
    # The same request through the API, in the page's session (so the same experiment variant):
    # the page must show exactly these picks.
    api = httpx.post(f"{server}/v1/match", timeout=120,
                     files={"image": (living_room.name, living_room.read_bytes(), "image/webp")},
                     data={"k": "10", "context": "cosy reading corner", "session_id": shown["sessionId"]}).json()
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


def test_page_sends_the_shoppers_feedback(server, living_room, shown):
    fb = shown["feedback"]
    assert fb["error"] is None, f"{fb['error']}\nfeedback responses: {fb['responses']}"
    cards = shown["feedbackCards"]
    assert [c["id"] for c in cards] == [c["id"] for c in shown["cards"]]
    # One match, named by every card; a session id kept for the next visit.
    match_id = cards[0]["matchId"]
    assert match_id and {c["matchId"] for c in cards} == {match_id}
    assert shown["sessionId"] and len(shown["sessionId"]) <= 128

    # Every card has its two buttons, labelled; only the ones the shopper pressed are pressed.
    for card in cards:
        assert [(b["event"], b["label"], b["title"], b["visible"]) for b in card["buttons"]] == [
            ("save", "Good fit — save", "Good fit — save", True),
            ("dismiss", "Doesn’t fit — dismiss", "Doesn’t fit — dismiss", True)]
    pressed = [{b["event"]: b["pressed"] for b in c["buttons"]} for c in cards]
    assert pressed[0] == {"save": "true", "dismiss": "false"}
    assert pressed[1] == {"save": "false", "dismiss": "true"}
    assert all(p == {"save": "false", "dismiss": "false"} for p in pressed[2:])
    assert [(c["feedback"], c["opened"], c["note"]) for c in cards[:4]] == [
        ("save", False, "Saved"), ("dismiss", False, "Dismissed"),
        (None, True, "Opened"), (None, False, "")]
    assert all(c["feedback"] is None and not c["opened"] for c in cards[3:])
    # Opening the third card opened its photo (or its record) in a new tab.
    assert fb["link"] in (f"/v1/products/{cards[2]['id']}/image", f"/v1/products/{cards[2]['id']}")
    assert fb["opened"] == server + fb["link"]
    assert not shown["statusAfterIsError"] and shown["statusAfter"] == shown["status"]
    assert shown["consoleErrors"] == []

    # What went over the wire: 👍 sent again reused its event_id, and the server said so.
    sent = [(r["request"]["event"], r["request"]["product_id"]) for r in fb["responses"]]
    assert set(sent) == {("save", cards[0]["id"]), ("dismiss", cards[1]["id"]), ("click", cards[2]["id"])}
    assert all(r["request"]["match_id"] == match_id and r["status"] in (200, 201) for r in fb["responses"])
    saves = [r for r in fb["responses"] if r["request"]["event"] == "save"]
    assert len(saves) >= 2 and len({r["request"]["event_id"] for r in saves}) == 1
    assert {r["status"] for r in saves} == {200, 201} and [r["status"] for r in saves].count(201) == 1
    assert all(r["body"]["recorded"] is (r["status"] == 201) and r["body"]["duplicate"] is (r["status"] == 200)
               for r in saves)

    # The server recorded each event once, under the page's variant.
    variant = httpx.post(f"{server}/v1/match", timeout=120,
                         files={"image": (living_room.name, living_room.read_bytes(), "image/webp")},
                         data={"k": "1", "session_id": shown["sessionId"]}).json()["variant"]
    counts = {}
    for family in text_string_to_metric_families(httpx.get(f"{server}/metrics").text):
        for sample in family.samples:
            if sample.name == "scenefit_feedback_events_total":
                counts[(sample.labels["variant"], sample.labels["event"])] = sample.value
    assert {key: v for key, v in counts.items() if v} == {
        (variant, "save"): 1, (variant, "dismiss"): 1, (variant, "click"): 1}, counts


def test_page_and_docs_are_served_offline(server):
    page = httpx.get(f"{server}/").text
    assert "<script src=\"/static/app.js\">" in page and "http" not in page.split("<body>")[1].split("/docs")[0]
    assert httpx.get(f"{server}/static/app.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{server}/static/..%2Fpyproject.toml").status_code == 404
    assert httpx.get(f"{server}/docs").status_code == 200
    spec = httpx.get(f"{server}/openapi.json").json()
    assert {"/v1/match", "/v1/products/{product_id}", "/v1/products:batch", "/healthz", "/readyz",
            "/metrics"} <= set(spec["paths"])
