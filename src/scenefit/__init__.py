"""scenefit: recommend catalog products that fit a photographed scene.

    >>> from scenefit import Engine
    >>> engine = Engine("my-index")
    >>> engine.ingest("catalog.csv")
    >>> engine.match("living-room.jpg", k=10).recommendations[0].reason

Heavy dependencies (torch, transformers, faiss) load on first use, not on import.
"""

from __future__ import annotations

# First, before anything loads numpy: BLAS threads must not spin between calls.
from . import _idle_threads  # noqa: F401,I001
from ._version import __version__
from ._errors import (  # noqa: I001  (IndexError_: the old name, not in __all__)
    IndexError_,
    BackendError,
    CatalogError,
    ConfigError,
    ImageError,
    InvalidIndexError,
    ModelError,
    ModelMismatchError,
    NotFoundError,
    ScenefitError,
)
from .pipelines import IngestConfig, IngestReport
from ._schema import SCHEMA_VERSION, MatchResult
from ._types import NamedColour, ParsedDescription, Product, RowError, SceneAnalysis
from .catalog import Catalog, normalize_description
from .embed import Encoder, EncoderConfig, build_encoder
from .engine import Engine
from .images import FetchConfig
from .index import VectorIndex
from .rank import Filters, RankConfig, RankWeights
from .scene import SceneAnalyzer, SceneConfig

__all__ = [
    "__version__",
    "Catalog", "Engine", "Encoder", "EncoderConfig", "Filters", "FetchConfig", "IngestConfig",
    "IngestReport", "MatchResult", "NamedColour", "ParsedDescription", "Product", "RankConfig",
    "RankWeights", "RowError", "SCHEMA_VERSION", "SceneAnalysis", "SceneAnalyzer", "SceneConfig",
    "VectorIndex", "build_encoder", "normalize_description",
    "ScenefitError", "ConfigError", "CatalogError", "ImageError", "ModelError", "InvalidIndexError",
    "ModelMismatchError", "NotFoundError", "BackendError",
]
