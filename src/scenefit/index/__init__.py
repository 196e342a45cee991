"""The persistent vector index (FAISS files, or a Milvus collection) and its manifest."""

from ._ann import AnnConfig, IndexSpec
from ._manifest import FORMAT_VERSION, Manifest
from ._milvus import MilvusSpace, MilvusTarget, filter_expression
from ._store import ProductRecord, VectorIndex

__all__ = ["AnnConfig", "IndexSpec", "FORMAT_VERSION", "Manifest", "MilvusSpace", "MilvusTarget", "ProductRecord", "VectorIndex",
           "filter_expression"]
