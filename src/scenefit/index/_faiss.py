"""Vectors in FAISS files inside the index folder, one file per space and generation.

Layout of a generation folder: ``vectors.faiss`` (the product vectors) and, when the encoder
makes them, ``appearance.faiss`` (image-to-image vectors of the products with a photo, keyed
by the same keys, so the two stay aligned through upserts and deletes; further photos of a
product under keys derived from its own, see ``_photos``). Filters become the
keys they allow, from the index's columns, and searches are restricted to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .._atomic import atomic_path
from .._errors import InvalidIndexError
from .._lru import LockedLRU
from . import _ann
from ._ann import AnnConfig, IndexSpec
from ._columns import Columns
from ._filters import FilterSpec
from ._manifest import Manifest
from ._photos import further, owners
from ._space import FieldsOf, KeyedVectors, no_hits

PRODUCTS_FILE = "vectors.faiss"
FILE = "appearance.faiss"  # the appearance space's file
_NARROWED_CACHE = 32  # distinct filters whose share of a partial space is kept
_REBUILD = "rebuild with `scenefit ingest CATALOG --index DIR --rebuild`"


class FaissSpace(KeyedVectors):
    """One FAISS index (flat or IVF, see ``_ann``) under our int64 keys.

    ``columns`` gives the index's current columns, from which a filter's allowed keys come.
    ``partial``: the space holds only some of the products (the appearance space: products
    with a photo), so allowed keys are first narrowed to those it holds."""

    def __init__(self, faiss_index, spec: IndexSpec | None = None, *, file: str,
                 columns: Callable[[], Columns], partial: bool = False, keys: set[int] | None = None):
        if keys is None:
            keys = set(_ann.keys_of(faiss_index).tolist()) if faiss_index.ntotal else set()
        super().__init__(keys)
        self._faiss = faiss_index
        self.spec = spec or IndexSpec()
        self.file = file
        self._columns = columns
        self._partial = partial
        #: a partial space's share of each filter's allowed keys: (the columns' array, narrowed)
        self._narrowed: LockedLRU[FilterSpec, tuple[np.ndarray, np.ndarray]] = LockedLRU(_NARROWED_CACHE)
        _ann.apply_search_params(faiss_index, self.spec)

    @property
    def dim(self) -> int:
        return self._faiss.d

    @property
    def ntotal(self) -> int:
        return self._faiss.ntotal

    def _storage(self, config: AnnConfig) -> str:
        return config.storage if self.file == PRODUCTS_FILE else config.appearance_storage

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys):
            self._faiss.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, np.int64))
            self._keys.update(int(k) for k in keys)
            self._changed()

    def remove(self, keys: list[int]) -> None:
        present = [int(k) for k in keys if int(k) in self._keys]
        if present:
            _ann.remove(self._faiss, present)
            self._keys.difference_update(present)
            self._changed()

    def vectors(self, keys) -> np.ndarray:
        return self._faiss.reconstruct_batch(np.asarray(keys, dtype=np.int64)).astype(np.float32)

    def _changed(self) -> None:
        super()._changed()
        self._narrowed = LockedLRU(_NARROWED_CACHE)

    def _allowed(self, filters: FilterSpec) -> np.ndarray:
        allowed = self._columns().allowed(filters)
        if not self._partial or not len(allowed):
            return allowed
        cached = self._narrowed.get(filters)
        if cached is not None and cached[0] is allowed:  # the same columns, no key change since
            return cached[1]
        held = self.key_array()
        narrowed = allowed[np.isin(allowed, held)]
        extra = further(held)
        if len(extra):  # the further photos of the allowed products are allowed too
            narrowed = np.concatenate([narrowed, extra[np.isin(owners(extra), allowed)]])
        self._narrowed.put(filters, (allowed, narrowed))
        return narrowed

    def prepare(self, filters: FilterSpec) -> None:
        self._columns().allowed(filters)

    def search(self, queries: np.ndarray, k: int, filters: FilterSpec | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(queries)
        allowed = None if filters is None else self._allowed(filters)
        if allowed is not None and len(allowed) == 0:
            return no_hits(len(queries), k)
        return _ann.search(self._faiss, self.spec, queries, k, allowed)

    def commit(self, folder: Path, config: AnnConfig, fields_of: FieldsOf) -> IndexSpec:
        """Rebuild as another index kind if the size now calls for it, then write the file."""
        import faiss

        self._faiss, self.spec = _ann.rebuilt(self._faiss, self.spec, self.key_array(), config,
                                              storage=self._storage(config))
        with atomic_path(folder / self.file) as tmp:
            faiss.write_index(self._faiss, str(tmp))
        return self.spec

    def after_commit(self) -> None:
        pass  # older generations' files go with their folders


def create_spaces(manifest: Manifest, columns: Callable[[], Columns], old: Manifest | None
                  ) -> tuple[FaissSpace, FaissSpace | None]:
    """Empty spaces for a new index."""
    products = FaissSpace(_ann.empty_flat(manifest.dim), file=PRODUCTS_FILE, columns=columns, keys=set())
    appearance = None
    if manifest.appearance_dim:
        appearance = FaissSpace(_ann.empty_flat(manifest.appearance_dim), file=FILE, columns=columns,
                                partial=True, keys=set())
    return products, appearance


def open_spaces(folder: Path, manifest: Manifest, keys: set[int], columns: Callable[[], Columns]
                ) -> tuple[FaissSpace, FaissSpace | None]:
    """The spaces of generation ``folder``, checked against the products' ``keys``."""
    import faiss

    try:
        index = faiss.read_index(str(folder / PRODUCTS_FILE))
        look = faiss.read_index(str(folder / FILE)) if manifest.appearance_dim else None
    except Exception as exc:  # faiss raises RuntimeError
        # faiss puts its C++ call site in the message: keep the first clause only.
        detail = str(exc).splitlines()[0].split(" at /")[0][:200]
        raise InvalidIndexError(f"{folder}: index files unreadable ({detail}); {_REBUILD}") from None
    if index.ntotal != len(keys) or index.d != manifest.dim:
        raise InvalidIndexError(f"{folder}: vectors and products disagree; {_REBUILD}")
    products = FaissSpace(index, manifest.ann, file=PRODUCTS_FILE, columns=columns, keys=set(keys))
    appearance = None
    if look is not None:
        appearance = FaissSpace(look, manifest.appearance_ann, file=FILE, columns=columns, partial=True)
        if appearance.dim != manifest.appearance_dim or not set(owners(appearance.key_array()).tolist()) <= keys:
            raise InvalidIndexError(f"{folder}: appearance vectors and products disagree; {_REBUILD}")
    return products, appearance


def set_search_threads(threads: int) -> None:
    """Threads FAISS's searches use from now on in this process (a serving worker's share of
    the cores, as its models get: ``embed.set_inference_threads``)."""
    import faiss

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    faiss.omp_set_num_threads(threads)
