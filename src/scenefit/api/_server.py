"""Run the app under uvicorn, one or several worker processes."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from ._service import Service

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


@contextlib.contextmanager
def serving(service: "Service", *, start_timeout_s: float = 5) -> Iterator[int]:
    """The app of ``service`` under a real uvicorn server in a thread, on a free loopback
    port (yielded), stopped on exit: for tests and benchmarks that need real HTTP (a body
    that really drips, the event loop under load, a client in another thread)."""
    import socket

    import uvicorn

    from ._app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(service=service), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.05)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
