"""The one exception tree of scenefit.

Every error a user can cause derives from :class:`ScenefitError`; the CLI and the API
translate that single base class into a one-line message (CLI) or a JSON error (API).
Anything else escaping is a bug and is allowed to show its traceback.

    ScenefitError
    ├── ConfigError            bad option values, unknown encoder name
    ├── CatalogError           catalog cannot be read at all (missing file, no rows, missing column)
    ├── ImageError             an image cannot be read, decoded, or is unsafe (too large)
    ├── ModelError             an encoder cannot be loaded (missing weights, missing package)
    ├── InvalidIndexError      index folder missing, corrupt, or built with another model
    │   └── ModelMismatchError index built with another model / dimension
    ├── NotFoundError          no product (or served match) with that id
    ├── FeedbackError          an event that cannot be recorded (product not shown, too many)
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


class InvalidIndexError(ScenefitError):
    code = "index_error"


#: The name this error had before 0.7; kept so that ``except IndexError_`` keeps working.
IndexError_ = InvalidIndexError


class ModelMismatchError(InvalidIndexError):
    code = "model_mismatch"


class NotFoundError(ScenefitError):
    code = "not_found"


class FeedbackError(ScenefitError):
    code = "invalid_feedback"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class BackendError(ScenefitError):
    code = "backend_error"


__all__ = [
    "ScenefitError",
    "ConfigError",
    "CatalogError",
    "ImageError",
    "ModelError",
    "BackendError",
    "InvalidIndexError",
    "ModelMismatchError",
    "NotFoundError",
    "FeedbackError",
]
