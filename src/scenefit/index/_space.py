"""The seam between the index and where its vectors live: one ``VectorSpace`` protocol.

An index holds two spaces of the same kind (the product vectors, and the optional
image-to-image appearance vectors), both keyed by the products' int64 keys. The kind is
chosen once, when the index is opened or created, from its manifest: FAISS files in the
index folder (``_faiss``) or Milvus collections (``_milvus``). Nothing above the index
knows which; each implementation turns a :class:`FilterSpec` into its own form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from ._ann import AnnConfig, IndexSpec
from ._filters import FilterSpec
from ._photos import owners

#: a product's filter fields by key, for spaces that store them beside the vectors
FieldsOf = Callable[[int], dict]


@runtime_checkable
class VectorSpace(Protocol):
    dim: int

    def __len__(self) -> int: ...

    def __contains__(self, key: int) -> bool: ...

    def key_array(self) -> np.ndarray:
        """Every key held, sorted."""

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new keys (visible to this process's searches at once or at the
        commit, as the backend allows)."""

    def remove(self, keys: list[int]) -> None:
        """Remove ``keys`` (those not held are ignored)."""

    def vectors(self, keys) -> np.ndarray:
        """The vectors of ``keys``, in order."""

    def prepare(self, filters: FilterSpec) -> None:
        """Translate ``filters`` into this space's form now (searches reuse it)."""

    def search(self, queries: np.ndarray, k: int, filters: FilterSpec | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, keys), each (n_queries, k) by falling score, padded with key -1."""

    def commit(self, folder: Path, config: AnnConfig, fields_of: FieldsOf) -> IndexSpec:
        """Before the manifest switch: make the changes durable (files into the new
        generation's ``folder``, or writes to the server); returns the index spec to record."""

    def after_commit(self) -> None:
        """After the manifest switch: what only then may go (deletes a reader of the old
        generation could still have used). A failure leaves them for the next commit."""


def best_keys(scores: np.ndarray, keys: np.ndarray, limit: int | None) -> np.ndarray:
    """Unique valid keys of a multi-query search; with ``limit``, the ``limit`` best by their
    highest score."""
    valid = keys >= 0
    if limit is None:
        return np.unique(keys[valid])
    flat_keys, flat_scores = keys[valid], scores[valid]
    order = np.argsort(-flat_scores, kind="stable")
    unique, first = np.unique(flat_keys[order], return_index=True)  # first = best occurrence
    return np.sort(unique[np.argsort(first)[:limit]])


class KeyedVectors:
    """What every space shares: the set of keys it holds (kept in memory for vectorised
    lookups), a fixed sample of its vectors, and multi-query retrieval. Subclasses give
    ``dim``, ``vectors`` and ``search``, and call ``_changed`` when the keys change."""

    def __init__(self, keys: set[int]):
        self._keys = keys
        self._reference: np.ndarray | None = None
        self._key_array: np.ndarray | None = None

    dim: int

    def vectors(self, keys) -> np.ndarray:
        raise NotImplementedError

    def search(self, queries: np.ndarray, k: int, filters: FilterSpec | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _changed(self) -> None:
        self._reference = self._key_array = None

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: int) -> bool:
        return key in self._keys

    def keys(self) -> set[int]:
        return set(self._keys)

    def key_array(self) -> np.ndarray:
        """The keys as a sorted array (cached until the next change), for vectorised lookups."""
        if self._key_array is None:
            self._key_array = np.sort(np.fromiter(self._keys, np.int64, count=len(self._keys)))
        return self._key_array

    def reference(self, n: int = 2048) -> np.ndarray:
        """A fixed random sample of the stored vectors (for expressing scores as percentiles)."""
        if self._reference is None:
            keys = self.key_array()
            if len(keys) > n:
                keys = np.sort(np.random.default_rng(0).choice(keys, size=n, replace=False))
            self._reference = self.vectors(keys) if len(keys) else np.zeros((0, self.dim), np.float32)
        return self._reference

    def nearest(self, queries: np.ndarray, k: int, filters: FilterSpec | None = None,
                limit: int | None = None) -> np.ndarray:
        """Product keys of the ``k`` nearest to each query, merged (unique); with ``limit``, only
        the ``limit`` keys with the best score for any query."""
        if not self._keys:
            return np.zeros(0, np.int64)
        scores, keys = self.search(np.atleast_2d(queries), min(k, len(self._keys)), filters)
        # A product's further photos (appearance space) count as the product, by its best one.
        return best_keys(scores, owners(keys), limit)


def no_hits(n_queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A search result with nothing found, shaped like FAISS's."""
    return np.full((n_queries, k), -np.inf, np.float32), np.full((n_queries, k), -1, np.int64)
