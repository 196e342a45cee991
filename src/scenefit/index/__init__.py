"""The persistent vector index (FAISS) and its manifest."""

from ._manifest import FORMAT_VERSION, Manifest
from ._store import ProductRecord, VectorIndex

__all__ = ["FORMAT_VERSION", "Manifest", "ProductRecord", "VectorIndex"]
