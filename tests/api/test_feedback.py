"""The feedback loop over HTTP: recorded matches, events and who may send them, deletes,
experiments and their metrics."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scenefit.feedback import EXPERIMENTS_FILE, MAX_EVENTS_PER_MATCH

from .conftest import AUTH, make_client, png_bytes, wait_ready

RED, BLUE = (200, 30, 30), (30, 40, 200)


def _match(client, colour=RED, **form):
    files = {"image": ("scene.png", png_bytes(colour), "image/png")}
    resp = client.post("/v1/match", files=files, data={k: str(v) for k, v in form.items()})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _send(client, match_id, product_id, event="click", headers=None, **extra):
    return client.post("/v1/feedback", json={"match_id": match_id, "product_id": product_id, "event": event, **extra},
                       headers=headers or {})


def _sample(client, name: str, **labels) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_a_served_match_is_recorded_with_its_photo_and_picks(client):
    result = _match(client, k=4, context="cosy", session_id="shopper-1")
    assert result["match_id"] and result["variant"] == "default"
    loop = client.app.state.service.engine.feedback
    record = loop.store.get_match(result["match_id"])
    assert [s.product_id for s in record.shown] == [r["id"] for r in result["recommendations"]]
    assert record.k == 4 and record.context == "cosy" and record.variant == "default"
    assert record.subject and "shopper" not in record.subject  # a keyed hash, not the id
    assert loop.store.scene_photo(record.scene_digest) == png_bytes(RED)
    second = _match(client, k=4)
    assert second["match_id"] != result["match_id"]
    assert loop.store.counts() == {"matches": 2, "events": 0, "scenes": 1}  # one photo, stored once


def test_events_on_shown_products_are_recorded_once_per_event_id(client):
    result = _match(client, k=3)
    pid = result["recommendations"][1]["id"]
    first = _send(client, result["match_id"], pid, "save", event_id="ev-1")
    assert first.status_code == 201 and first.json() == {
        "recorded": True, "duplicate": False, "match_id": result["match_id"], "product_id": pid, "event": "save",
        "rank": 2, "variant": "default"}
    again = _send(client, result["match_id"], pid, "save", event_id="ev-1")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _send(client, result["match_id"], pid, "click").status_code == 201
    assert client.app.state.service.engine.feedback.store.count_events(result["match_id"]) == 2
    assert _sample(client, "scenefit_feedback_events_total", variant="default", event="save") == 1


@pytest.mark.parametrize("body, status, code", [
    ({"match_id": "not-a-match", "product_id": "p1", "event": "click"}, 404, "not_found"),
    ({"product_id": "p1", "event": "click"}, 422, "invalid_request"),
    ({"match_id": "{m}", "product_id": "p1", "event": "stare"}, 422, "invalid_request"),
    ({"match_id": "{m}", "product_id": "p1", "event": "click", "extra": 1}, 422, "invalid_request"),
    ({"match_id": "{m}", "product_id": "{unshown}", "event": "click"}, 422, "invalid_feedback"),
    ({"match_id": "{m}", "product_id": "{shown}", "event": "relevant"}, 401, "unauthorized"),
])
def test_refused_events_say_why(client, body, status, code):
    result = _match(client, k=2)
    shown = {r["id"] for r in result["recommendations"]}
    fill = {"{m}": result["match_id"], "{shown}": next(iter(shown)),
            "{unshown}": next(f"p{i}" for i in range(16) if f"p{i}" not in shown)}
    body = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    resp = client.post("/v1/feedback", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert client.app.state.service.engine.feedback.store.count_events(result["match_id"]) == 0


def test_curator_judgements_need_the_write_key(client):
    result = _match(client, k=2)
    pid = result["recommendations"][0]["id"]
    wrong = {"Authorization": "Bearer nope"}
    assert _send(client, result["match_id"], pid, "irrelevant", headers=wrong).status_code == 401
    resp = _send(client, result["match_id"], pid, "irrelevant", headers=AUTH)
    assert resp.status_code == 201 and resp.json()["event"] == "irrelevant"
    assert _send(client, result["match_id"], pid, "dismiss").status_code == 201  # shoppers need no key


def test_bodies_are_small_and_json(client):
    result = _match(client, k=2)
    pid = result["recommendations"][0]["id"]
    big = _send(client, result["match_id"], pid, event_id="x" * 64, padding="y" * 17_000)
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    form = client.post("/v1/feedback", data={"match_id": result["match_id"], "product_id": pid, "event": "click"})
    assert form.status_code == 415
    assert _sample(client, "scenefit_feedback_rejected_total", reason="too_large") == 1


def test_a_client_is_rate_limited_and_a_match_takes_a_bounded_number(index_dir):
    with make_client(index_dir, feedback_per_minute=5) as client:
        wait_ready(client)
        result = _match(client, k=1)
        pid = result["recommendations"][0]["id"]
        codes = [_send(client, result["match_id"], pid).status_code for _ in range(7)]
        assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
        limited = _send(client, result["match_id"], pid)
        assert int(limited.headers["Retry-After"]) >= 1
    with make_client(index_dir, feedback_per_minute=100_000) as client:
        wait_ready(client)
        result = _match(client, k=1)
        pid = result["recommendations"][0]["id"]
        codes = [_send(client, result["match_id"], pid).status_code for _ in range(MAX_EVENTS_PER_MATCH + 1)]
        assert codes[-1] == 429 and set(codes[:-1]) == {201}


def test_deleting_a_match_removes_it_and_its_photo(client):
    result = _match(client, k=2)
    pid = result["recommendations"][0]["id"]
    assert _send(client, result["match_id"], pid).status_code == 201
    assert client.delete(f"/v1/matches/{result['match_id']}").status_code == 401
    assert client.delete(f"/v1/matches/{result['match_id']}", headers=AUTH).status_code == 204
    assert _send(client, result["match_id"], pid).status_code == 404
    assert client.app.state.service.engine.feedback.store.counts() == {"matches": 0, "events": 0, "scenes": 0}
    assert client.delete(f"/v1/matches/{result['match_id']}", headers=AUTH).status_code == 404


def test_without_recording_results_carry_no_match_id(index_dir):
    with make_client(index_dir, record_matches=False) as client:
        wait_ready(client)
        result = _match(client, k=2)
        assert result["match_id"] is None and result["variant"] is None
        assert _sample(client, "scenefit_matches_total", variant="default") == 1


def test_variants_rank_with_their_own_fit_and_sessions_stick(index_dir):
    (index_dir / "fits" / "diverse").mkdir(parents=True)
    (index_dir / EXPERIMENTS_FILE).write_text(json.dumps({"variants": [
        {"name": "control", "share": 0.5},
        {"name": "diverse", "share": 0.5, "fit": "fits/diverse", "rank": {"diversity": 0.9}}]}))
    with make_client(index_dir) as client:
        wait_ready(client)
        seen = {}
        for i in range(24):
            result = _match(client, k=8, session_id=f"s{i}")
            seen.setdefault(result["variant"], []).append([r["id"] for r in result["recommendations"]])
            assert _match(client, k=8, session_id=f"s{i}")["variant"] == result["variant"]  # sticky
        assert set(seen) == {"control", "diverse"}
        # The same photo, ranked differently by the variant's config.
        assert seen["control"][0] != seen["diverse"][0]
        assert _sample(client, "scenefit_matches_total", variant="diverse") == 2 * len(seen["diverse"])
        assert _sample(client, "scenefit_match_top_score_count", variant="control") == 2 * len(seen["control"])
        report = client.get("/v1/experiments/report?k=8", headers=AUTH).json()
        assert [v["name"] for v in report["variants"]] == ["control", "diverse"]
        assert client.get("/v1/experiments/report").status_code == 401
        assert client.get("/v1/experiments/report?kk=3", headers=AUTH).status_code == 422  # misspelt: refused
        assert client.get("/v1/experiments/report?since=yesterday", headers=AUTH).status_code == 422
        assert client.get("/v1/experiments/report?since=2026-01-01", headers=AUTH).json()["since"].startswith("2026-01-01T00:00")


def test_a_variant_whose_fit_folder_is_missing_is_not_served(index_dir):
    (index_dir / EXPERIMENTS_FILE).write_text(json.dumps({"variants": [{"name": "x", "share": 1, "fit": "fits/x"}]}))
    with make_client(index_dir) as client:
        wait_ready(client)
        files = {"image": ("scene.png", png_bytes(RED), "image/png")}
        resp = client.post("/v1/match", files=files)
        assert resp.status_code == 503 and "fits/x" in resp.json()["error"]["message"]


def test_empty_results_are_counted(client):
    result = _match(client, k=3, filters=json.dumps({"price_max": 1}))
    assert result["recommendations"] == [] and result["match_id"]
    assert _sample(client, "scenefit_match_empty_total", variant="default") == 1


def test_a_storefront_on_another_origin_may_send_events_once_allowed(index_dir):
    preflight = {"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    with make_client(index_dir, cors_origins="https://shop.example.com") as client:
        wait_ready(client)
        ok = client.options("/v1/feedback", headers=preflight)
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://shop.example.com"
        other = client.options("/v1/feedback", headers={**preflight, "Origin": "https://evil.example"})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        result = _match(client, k=1)
        sent = client.post("/v1/feedback", headers={"Origin": "https://shop.example.com"},
                           json={"match_id": result["match_id"], "product_id": result["recommendations"][0]["id"],
                                 "event": "click"})
        assert sent.status_code == 201 and sent.headers["access-control-allow-origin"] == "https://shop.example.com"
    with make_client(index_dir) as client:  # by default: same origin only
        assert "access-control-allow-origin" not in client.options("/v1/feedback", headers=preflight).headers


@pytest.mark.server
def test_with_postgres_everything_lands_in_the_database(tmp_path, fake_backend, write_image, postgres_url):
    import psycopg

    from scenefit.engine import Engine

    rows = ["id,sku_id,description,primary_image"]
    for i, (name, rgb) in enumerate({"red": RED, "blue": BLUE}.items()):
        rows.append(f"p{i},S{i},{name.upper()} VASE,{write_image(tmp_path / f'{i}.png', rgb)}")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    index = tmp_path / "pg-index"
    Engine(index, database_url=postgres_url, log=lambda m: None).ingest(tmp_path / "c.csv")
    assert not (index / "feedback.sqlite").exists()
    with make_client(index, database_url=postgres_url) as client:
        wait_ready(client)
        result = _match(client, k=2)
        assert _send(client, result["match_id"], result["recommendations"][0]["id"], "purchase").status_code == 201
        loop = client.app.state.service.engine.feedback
        assert loop.store.kind == "postgres" and not (index / "feedback.sqlite").exists()
        with psycopg.connect(postgres_url) as con:
            assert con.execute("SELECT event FROM scenefit_events WHERE match_id = %s",
                               (result["match_id"],)).fetchall() == [("purchase",)]
        report = loop.export(tmp_path / "labels.jsonl")
        assert report.relevant == 1 and report.labels.is_file()
        assert client.get("/v1/experiments/report", headers=AUTH).json()["variants"][0]["rates"]["purchase"]["successes"] == 1
        loop.store.drop()
