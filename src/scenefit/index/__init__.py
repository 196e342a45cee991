"""The persistent vector index (FAISS) and its manifest."""

from ._ann import AnnConfig, IndexSpec
from ._manifest import FORMAT_VERSION, Manifest
from ._store import ProductRecord, VectorIndex

__all__ = ["AnnConfig", "IndexSpec", "FORMAT_VERSION", "Manifest", "ProductRecord", "VectorIndex"]
