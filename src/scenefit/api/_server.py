"""Run the app under uvicorn, one or several worker processes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

INDEX_ENV = "SCENEFIT_SERVE_INDEX"
THREADS_ENV = "SCENEFIT_THREADS"


def app_from_env():
    """uvicorn's factory in each worker process: the index comes through the environment."""
    from ._app import create_app

    return create_app(os.environ[INDEX_ENV])


def run_server(index_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
               log: Callable[[str], None] = print) -> None:
    import uvicorn

    from ..embed import threads_per_worker

    os.environ[INDEX_ENV] = str(Path(index_dir).resolve())
    if workers > 1:
        # Each worker's model gets its share of the cores: two models each using every core
        # would make every match wait on the other's (SCENEFIT_THREADS overrides).
        os.environ.setdefault(THREADS_ENV, str(threads_per_worker(workers)))
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts in its own process; prometheus_client adds them up through
        # files in a shared folder (set before any worker imports it).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="scenefit-metrics-")
    log(f"serving {index_dir} on http://{host}:{port} (docs at /docs, page at /)")
    uvicorn.run("scenefit.api._server:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="info", timeout_graceful_shutdown=10)
