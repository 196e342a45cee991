"""The persistent vector index (FAISS files, or a Milvus collection) and its manifest."""

from ._ann import AnnConfig, IndexSpec
from ._backends import canonical_store
from ._faiss import set_search_threads
from ._filters import Filters, FilterSpec
from ._manifest import FORMAT_VERSION, Manifest
from ._milvus import filter_expression
from ._milvus_client import MilvusCollection, MilvusTarget
from ._product import ProductRecord
from ._record_cache import RecordCache
from ._space import VectorSpace
from ._store import VectorIndex

__all__ = ["AnnConfig", "IndexSpec", "FORMAT_VERSION", "Filters", "FilterSpec", "Manifest", "MilvusCollection",
           "MilvusTarget", "ProductRecord", "RecordCache", "VectorIndex", "VectorSpace", "canonical_store",
           "filter_expression", "set_search_threads"]
