"""The one exception tree of scenefit.

Every error a user can cause derives from :class:`ScenefitError`; the CLI and the API
translate that single base class into a one-line message (CLI) or a JSON error (API).
Anything else escaping is a bug and is allowed to show its traceback.

    ScenefitError
    ├── ConfigError            bad option values, unknown encoder name
    ├── CatalogError           catalog cannot be read at all (missing file, no rows, missing column)
    ├── ImageError             an image cannot be read, decoded, or is unsafe (too large)
    ├── ModelError             an encoder cannot be loaded (missing weights, missing package)
    ├── IndexError_            index folder missing, corrupt, or built with another model
    │   └── ModelMismatchError index built with another model / dimension
    ├── NotFoundError          no product with that id
    └── BackendError           a scale-out backend (Ray cluster, Milvus server) is unreachable or failed
"""

from __future__ import annotations


class ScenefitError(Exception):
    """Base class of every error scenefit raises on purpose."""

    #: Short machine-readable code, used by the HTTP API.
    code = "scenefit_error"


class ConfigError(ScenefitError):
    code = "config_error"


class CatalogError(ScenefitError):
    code = "catalog_error"


class ImageError(ScenefitError):
    code = "image_error"


class ModelError(ScenefitError):
    code = "model_error"


class IndexError_(ScenefitError):  # trailing underscore: don't shadow the builtin IndexError
    code = "index_error"


class ModelMismatchError(IndexError_):
    code = "model_mismatch"


class NotFoundError(ScenefitError):
    code = "not_found"


class BackendError(ScenefitError):
    code = "backend_error"


__all__ = [
    "ScenefitError",
    "ConfigError",
    "CatalogError",
    "ImageError",
    "ModelError",
    "BackendError",
    "IndexError_",
    "ModelMismatchError",
    "NotFoundError",
]
