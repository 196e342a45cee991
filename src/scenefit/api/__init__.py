"""The HTTP service: FastAPI app, one module per group of views, errors translated once.

    >>> from scenefit.api import create_app
    >>> app = create_app("my-index")          # uvicorn scenefit.api:… or `scenefit serve`

``create_app`` wires a :class:`Service` (the engine, settings, caches and metrics) into the
views; tests drive the app in-process with ``fastapi.testclient.TestClient``.
"""

from ._app import create_app
from ._server import run_server, serving
from ._service import Service

__all__ = ["Service", "create_app", "run_server", "serving"]
