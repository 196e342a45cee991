"""`scenefit serve`'s process setup: the environment each worker starts from."""

import os

import pytest
import uvicorn

from scenefit._settings import Settings
from scenefit.api._server import THREADS_ENV, run_server
from scenefit.api._service import Service
from scenefit.embed import _threads, inference_threads, set_inference_threads


@pytest.fixture(autouse=True)
def _own_environment(monkeypatch):
    """run_server writes os.environ (for its workers): a copy, so nothing leaks into other tests."""
    environ = {k: v for k, v in os.environ.items() if k not in (THREADS_ENV, "PROMETHEUS_MULTIPROC_DIR")}
    monkeypatch.setattr(os, "environ", environ)


def _serve(monkeypatch, tmp_path, workers):
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    monkeypatch.setattr(_threads, "available_cores", lambda: 4)
    run_server(tmp_path, workers=workers, log=lambda m: None)
    return seen


def test_several_workers_share_the_cores(monkeypatch, tmp_path):
    assert _serve(monkeypatch, tmp_path, 2)["workers"] == 2
    assert os.environ[THREADS_ENV] == "2"  # 4 cores, 2 workers
    assert Settings.from_env().threads == 2  # what each worker's Service reads


def test_one_worker_keeps_every_core_and_a_set_value_wins(monkeypatch, tmp_path):
    _serve(monkeypatch, tmp_path, 1)
    assert THREADS_ENV not in os.environ
    os.environ[THREADS_ENV] = "3"
    _serve(monkeypatch, tmp_path, 2)
    assert os.environ[THREADS_ENV] == "3"


def test_a_service_sets_its_threads_before_its_model_loads(tmp_path):
    import faiss
    from threadpoolctl import threadpool_info

    before = faiss.omp_get_max_threads()
    try:
        Service(tmp_path, Settings(threads=1))
        assert inference_threads() == 1
        assert faiss.omp_get_max_threads() == 1  # its searches
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    finally:
        set_inference_threads(None)
        faiss.omp_set_num_threads(before)
