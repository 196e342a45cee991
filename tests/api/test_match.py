"""POST /v1/match: the contract, uploads and URLs, context, filters, the cache, the event loop."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from scenefit import SCHEMA_VERSION, MatchResult

from .conftest import make_client, png_bytes, serving, wait_ready

RED = (200, 30, 30)


def _upload(client, data=None, colour=RED, **form):
    files = {"image": ("scene.png", png_bytes(colour) if data is None else data, "image/png")}
    return client.post("/v1/match", files=files, data={k: str(v) for k, v in form.items()})


def test_upload_returns_the_match_contract(client):
    resp = _upload(client, k=5)
    assert resp.status_code == 200, resp.text
    result = MatchResult.model_validate(resp.json())  # the same schema as `scenefit match --json`
    assert result.schema_version == SCHEMA_VERSION
    assert [r.rank for r in result.recommendations] == [1, 2, 3, 4, 5]
    assert abs(sum(result.scene.room_type.values()) - 1) < 1e-6
    assert result.index.count == 16 and result.model.backend == "offline"
    # The fake encoder's image space is colour: a red scene brings red products first.
    assert "RED" in result.recommendations[0].description


def test_same_picks_as_the_library(client):
    data = png_bytes((30, 40, 200))
    api = _upload(client, data=data, k=6).json()
    lib = client.app.state.service.engine.match(data, k=6)
    assert [r["id"] for r in api["recommendations"]] == [r.id for r in lib.recommendations]


def test_context_is_applied(client):
    plain = _upload(client, k=16).json()
    shifted = _upload(client, k=16, context="lamp lamp lamp").json()
    assert shifted["scene"]["context"] == "lamp lamp lamp" and plain["scene"]["context"] is None
    cos = lambda res: {r["id"]: r["factors"]["cosine"] for r in res["recommendations"]}
    lamps = [r["id"] for r in plain["recommendations"] if "LAMP" in r["description"]]
    # The query moved towards "lamp": every lamp's cosine to it went up.
    assert lamps and all(cos(shifted)[i] > cos(plain)[i] for i in lamps)


@pytest.mark.parametrize("filters, check", [
    ({"category": "vase"}, lambda r: "VASE" in r["description"]),
    ({"attributes": {"brand": "acme"}}, lambda r: r["attributes"]["brand"] == "acme"),
    ({"attributes": {"Brand": ["ACME", "zen"]}}, lambda r: r["attributes"]["brand"] in ("acme", "zen")),
    ({"price_min": 20, "price_max": 40}, lambda r: 20 <= float(r["attributes"]["price"]) <= 40),
])
def test_filters_hold_for_every_pick(client, filters, check):
    resp = _upload(client, k=10, filters=json.dumps(filters))
    assert resp.status_code == 200, resp.text
    recs = resp.json()["recommendations"]
    assert recs and all(check(r) for r in recs)


def test_json_image_url(index_dir, http_server):
    http_server.serve("/room.png", png_bytes())
    with make_client(index_dir, url_allow_networks=("127.0.0.1/32",)) as client:
        resp = client.post("/v1/match", json={"image_url": http_server.url("/room.png"), "k": 3,
                                              "filters": {"category": "rug"}})
    assert resp.status_code == 200, resp.text
    recs = resp.json()["recommendations"]
    assert len(recs) == 3 and all("RUG" in r["description"] for r in recs)


def test_same_photo_twice_is_embedded_once(client):
    encoder = client.app.state.service.engine.analyzer.encoder
    _upload(client, colour=(1, 2, 3))
    before = encoder.appearance_calls
    _upload(client, colour=(1, 2, 3), context="something else")
    assert encoder.appearance_calls == before  # served from the scene cache
    metrics = client.get("/metrics").text
    assert 'scenefit_scene_cache_total{result="hit"} 1.0' in metrics


def test_redis_scene_cache_is_shared_by_two_services(index_dir, redis_url):
    data = png_bytes((9, 99, 199))
    with make_client(index_dir, redis_url=redis_url) as one, make_client(index_dir, redis_url=redis_url) as two:
        wait_ready(one), wait_ready(two)
        assert _upload(one, data=data).status_code == 200
        encoder = two.app.state.service.engine.analyzer.encoder
        before = encoder.appearance_calls
        assert _upload(two, data=data).status_code == 200
        assert encoder.appearance_calls == before  # the other process's embedding, from Redis


def test_metrics_count_requests_and_time_stages(client):
    _upload(client)
    client.get("/v1/products/nope")
    text = client.get("/metrics").text
    assert 'scenefit_http_requests_total{method="POST",route="/v1/match",status="200"} 1.0' in text
    assert 'route="/v1/products/{product_id}",status="404"' in text  # the template, not the id
    for stage in ("match", "encode", "search"):
        assert f'scenefit_match_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    assert "scenefit_index_products 16.0" in text


def test_healthz_answers_while_a_match_runs(index_dir):
    """Inference runs off the event loop: a real server keeps answering /healthz."""
    from scenefit._settings import Settings
    from scenefit.api import Service

    service = Service(index_dir, Settings())
    release, started = threading.Event(), threading.Event()
    real_match = service.engine.match

    def slow_match(*a, **kw):
        started.set()
        release.wait(30)
        return real_match(*a, **kw)

    service.engine.match = slow_match
    try:
        with serving(service) as port:
            base = f"http://127.0.0.1:{port}"
            result = {}
            matcher = threading.Thread(target=lambda: result.update(r=httpx.post(
                f"{base}/v1/match", files={"image": ("s.png", png_bytes(), "image/png")}, timeout=60)))
            matcher.start()
            assert started.wait(30)
            health = httpx.get(f"{base}/healthz", timeout=5)  # while the match is still blocked
            assert health.status_code == 200 and matcher.is_alive()
            release.set()
            matcher.join(60)
            assert result["r"].status_code == 200
    finally:
        release.set()


def test_a_full_match_queue_answers_503_at_once(index_dir):
    """Concurrency 1, queue 1: one match computes, one waits, the third is refused."""
    with make_client(index_dir, match_concurrency=1, match_queue=1) as client:
        wait_ready(client)
        service = client.app.state.service
        release, started = threading.Event(), threading.Event()
        real_match = service.engine.match

        def blocked_match(*a, **kw):
            started.set()
            assert release.wait(30)
            return real_match(*a, **kw)

        service.engine.match = blocked_match
        results: dict[str, httpx.Response] = {}
        threads = {name: threading.Thread(target=lambda n=name: results.update({n: _upload(client)}))
                   for name in ("first", "second")}
        try:
            threads["first"].start()
            assert started.wait(30)  # the first holds the one inference slot
            threads["second"].start()
            deadline = time.monotonic() + 30
            while service.inference.statistics().tasks_waiting < 1 and time.monotonic() < deadline:
                time.sleep(0.01)  # until the second waits its turn
            assert service.inference.statistics().tasks_waiting == 1
            third = _upload(client)
            assert third.status_code == 503 and third.headers["retry-after"].isdigit()
            assert third.json()["error"]["code"] == "overloaded"
        finally:
            release.set()
            for t in threads.values():
                t.join(60)
        assert results["first"].status_code == 200 and results["second"].status_code == 200
        assert service.admission.held == 0 and _upload(client).status_code == 200


def test_made_up_methods_and_paths_add_no_series(client):
    import random

    def series(text: str) -> set[str]:
        return {line.rsplit(" ", 1)[0] for line in text.splitlines()
                if line.startswith(("scenefit_http_requests_total{", "scenefit_http_request_seconds_count{"))}

    client.get("/metrics")
    before = series(client.get("/metrics").text)
    rng = random.Random(7)
    for i in range(50):
        method = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(3, 12)))
        client.request(method, "/v1/match" if i % 2 else f"/made/up/{i}")
    new = series(client.get("/metrics").text) - before
    assert new and all('method="other"' in s for s in new), new
    assert {s for s in new if "requests_total" in s} <= {
        f'scenefit_http_requests_total{{method="other",route="{route}",status="{status}"}}'
        for route in ("/v1/match", "unmatched") for status in (404, 405)}


def test_a_match_whose_body_drips_is_refused_with_408_and_frees_its_place(index_dir):
    """A client that sends its upload a byte at a time must not hold a place in the match
    queue for longer than SCENEFIT_UPLOAD_TIMEOUT_S (a real server: the body really drips)."""
    import socket

    from scenefit._settings import Settings
    from scenefit.api import Service

    service = Service(index_dir, Settings(upload_timeout_s=0.5, match_concurrency=1, match_queue=0))
    with serving(service) as port:
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{")  # ...and nothing more
        start = time.monotonic()
        answer = b""
        while chunk := slow.recv(4096):  # headers and body may come apart; the server closes
            answer += chunk
        answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408") and "request_timeout" in answer
        assert time.monotonic() - start < 5
        slow.close()
        # Its place is free again: the only one there is (concurrency 1, queue 0).
        resp = httpx.post(f"http://127.0.0.1:{port}/v1/match",
                          files={"image": ("s.png", png_bytes(), "image/png")}, timeout=30)
        assert resp.status_code == 200, resp.text
