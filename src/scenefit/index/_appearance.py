"""Image-to-image appearance vectors: a second FAISS space beside the main index.

Only products with a usable photo have one. It is keyed by the same FAISS ids as the main
index, so the two stay aligned through upserts and deletes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _ann
from ._ann import AnnConfig, IndexSpec

FILE = "appearance.faiss"


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
    """What every appearance store shares: the set of keys it holds (kept in memory for
    vectorised lookups), and a fixed sample of its vectors. Subclasses give ``dim`` and
    ``vectors`` and call ``_changed`` when the keys change."""

    def __init__(self, keys: set[int]):
        self._keys = keys
        self._reference: np.ndarray | None = None
        self._key_array: np.ndarray | None = None

    dim: int

    def vectors(self, keys) -> np.ndarray:
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


class AppearanceStore(KeyedVectors):
    def __init__(self, faiss_index, spec: IndexSpec | None = None):
        super().__init__(set(_ann.keys_of(faiss_index).tolist()) if faiss_index.ntotal else set())
        self._faiss = faiss_index
        self.spec = spec or IndexSpec()
        _ann.apply_search_params(faiss_index, self.spec)

    @classmethod
    def create(cls, dim: int) -> "AppearanceStore":
        return cls(_ann.empty_flat(dim))

    @classmethod
    def read(cls, folder: Path, spec: IndexSpec | None = None) -> "AppearanceStore":
        import faiss

        return cls(faiss.read_index(str(folder / FILE)), spec)

    def fit_index(self, config: AnnConfig) -> IndexSpec:
        """Rebuild as another index kind if the size calls for it (see ``_ann``)."""
        self._faiss, self.spec = _ann.rebuilt(self._faiss, self.spec, np.fromiter(self._keys, np.int64), config,
                                              storage=config.appearance_storage)
        return self.spec

    def write(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self._faiss, str(folder / FILE))

    @property
    def dim(self) -> int:
        return self._faiss.d

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys):
            self._faiss.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, np.int64))
            self._keys.update(int(k) for k in keys)
            self._changed()

    def remove(self, keys: list[int]) -> None:
        present = [k for k in keys if k in self._keys]
        if present:
            _ann.remove(self._faiss, present)
            self._keys.difference_update(present)
            self._changed()

    def vectors(self, keys) -> np.ndarray:
        return self._faiss.reconstruct_batch(np.asarray(keys, dtype=np.int64)).astype(np.float32)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None,
               limit: int | None = None) -> np.ndarray:
        """Keys of the ``k`` nearest products to each query, merged (unique); with ``limit``,
        only the ``limit`` keys with the best score for any query."""
        if not self._keys:
            return np.zeros(0, np.int64)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            allowed = allowed[np.isin(allowed, self.key_array())]
            if len(allowed) == 0:
                return np.zeros(0, np.int64)
        scores, keys = _ann.search(self._faiss, self.spec, queries, min(k, len(self._keys)), allowed)
        return best_keys(scores, keys, limit)
