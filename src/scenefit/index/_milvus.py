"""Product vectors in Milvus instead of FAISS files (``scenefit ingest … --store URI``).

The index folder keeps the manifest and the store of record (SQLite or PostgreSQL) as usual;
the vectors, and the fields that filters test, live in a collection, keyed by the same int64
keys the FAISS index would use. A second collection, ``COLLECTION_appearance``, holds the
offline encoder's image-to-image vectors with the same fields.

Filters are pushed down as Milvus boolean expressions (:func:`filter_expression`), built from
the filter alone (no pass over the catalog), with the same meaning as the FAISS spaces'
column filters: values are compared trimmed and lower-cased, a category filter matches the
parsed category or a ``category``/``type`` column, and a price range fails products without
a parseable price.

Writes are buffered and applied when the index is saved: new vectors before the manifest
switches to the new generation, deletes after it. Milvus has no generations: a reader still
on the previous generation can miss a product deleted by the save (its record is still
readable, its vector is not).
"""

from __future__ import annotations

import functools
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .._errors import BackendError
from ._ann import AnnConfig, IndexSpec
from ._columns import _norm, _number, filter_values
from ._filters import FilterSpec
from ._manifest import Manifest
from ._milvus_client import MilvusCollection, MilvusTarget
from ._space import FieldsOf, KeyedVectors

if TYPE_CHECKING:
    from ._product import ProductRecord


def filter_fields(record: "ProductRecord") -> dict[str, Any]:
    """The fields a filter can test, normalised as the FAISS spaces' columns are."""
    attrs = filter_values(record)
    price = _number(attrs.get("price", ""))
    category = _norm(record.category).encode("utf-8")[:512].decode("utf-8", "ignore")  # a VARCHAR's limit is bytes
    return {"category": category, "attrs": attrs,
            "price": 0.0 if np.isnan(price) else float(price), "has_price": not np.isnan(price)}


def filter_expression(categories: Iterable[str], attributes: dict[str, set[str]],
                      price_min: float | None, price_max: float | None) -> str:
    """A Milvus expression for normalised filter values (see the module docstring)."""
    def lit(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    def any_of(field: str, values: Iterable[str]) -> str:
        return "(" + " or ".join(f"{field} == {lit(v)}" for v in sorted(values)) + ")"

    parts = []
    cats = sorted(set(categories))
    if cats:
        listed = ", ".join(lit(c) for c in cats)
        column, kind = any_of('attrs["category"]', cats), any_of('attrs["type"]', cats)
        parts.append(f"(category in [{listed}] or {column} or {kind})")
    for name, values in sorted(attributes.items()):
        parts.append(any_of(f"attrs[{lit(name)}]", values))
    if price_min is not None or price_max is not None:
        parts.append("has_price == true")
        if price_min is not None:
            parts.append(f"price >= {float(price_min)!r}")
        if price_max is not None:
            parts.append(f"price <= {float(price_max)!r}")
    return " and ".join(parts) if parts else "key >= 0"


@functools.lru_cache(maxsize=256)
def expression_for(spec: FilterSpec) -> str:
    return filter_expression(spec.categories, dict(spec.attributes), spec.price_min, spec.price_max)


def pending_first(keys: Sequence[int], pending: dict[int, np.ndarray], collection: MilvusCollection) -> np.ndarray:
    """Vectors of ``keys`` in order: buffered ones (not yet saved) from ``pending``, the rest
    from the collection."""
    keys = [int(k) for k in keys]
    saved = collection.get([k for k in keys if k not in pending])
    if len(saved) == len(keys):
        return saved
    rows = iter(saved)
    return np.stack([pending[k] if k in pending else next(rows) for k in keys])


class MilvusSpace(KeyedVectors):
    """A vector space in one Milvus collection. Writes are buffered: new vectors go out at
    the commit, deletes after it (kept for the next commit if Milvus fails then).

    ``replaces``: (store, collection) of the build this one replaces (a rebuild), whose
    collections are dropped once the new build is committed."""

    def __init__(self, collection: MilvusCollection, keys: set[int] | None = None,
                 replaces: tuple[str, str] | None = None):
        super().__init__(set(collection.all_keys().tolist()) if keys is None else keys)
        self.collection = collection
        self.spec = IndexSpec()  # Milvus indexes its own collection
        self._pending: dict[int, np.ndarray] = {}
        self._removed: set[int] = set()
        self._replaces = replaces

    @property
    def dim(self) -> int:
        return self.collection.dim

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        for k, v in zip(keys, vectors):
            self._pending[int(k)] = np.asarray(v, np.float32)
            self._removed.discard(int(k))
        self._keys.update(int(k) for k in keys)
        self._changed()

    def remove(self, keys: list[int]) -> None:
        present = [int(k) for k in keys if int(k) in self._keys]
        for k in present:
            self._pending.pop(k, None)
            self._removed.add(k)
        self._keys.difference_update(present)
        self._changed()

    def vectors(self, keys) -> np.ndarray:
        return pending_first(keys, self._pending, self.collection)

    def prepare(self, filters: FilterSpec) -> None:
        expression_for(filters)

    def search(self, queries: np.ndarray, k: int, filters: FilterSpec | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Searches what the collection holds: vectors buffered since the last commit are not
        found until it."""
        return self.collection.search(queries, k, "" if filters is None else expression_for(filters))

    def commit(self, folder: Path, config: AnnConfig, fields_of: FieldsOf) -> IndexSpec:
        """Write the new vectors with the fields filters test. Keys are never reused, so
        vectors of a save that fails are orphans no record names (queries skip them)."""
        self.collection.write(self._pending, lambda key: filter_fields(fields_of(key)))
        self._pending = {}
        return self.spec

    def after_commit(self) -> None:
        """Delete removed vectors, and drop the collections a rebuild replaced. A Milvus
        failure does not undo the (committed) save: they are retried at the next one, and
        queries skip the keys meanwhile (no record names them)."""
        try:
            self.collection.remove(self._removed)
            self._removed = set()
            if self._replaces is not None:
                store, name = self._replaces
                target = MilvusTarget.parse(store)
                for collection in (name, f"{name}_appearance"):
                    old = MilvusCollection(target, collection, 1)
                    if old.client.has_collection(collection):
                        old.drop()
                self._replaces = None
        except BackendError:
            pass


def _spaces(manifest: Manifest, keys: set[int] | None, create: bool, replaces: tuple[str, str] | None):
    target = MilvusTarget.parse(manifest.vector_store)
    base = manifest.vector_collection or target.collection
    products = MilvusCollection.open(target, base, dim=manifest.dim, model_id=manifest.model_id, create=create)
    appearance = None
    if manifest.appearance_dim:
        looks = MilvusCollection.open(target, f"{base}_appearance", dim=manifest.appearance_dim,
                                      model_id=manifest.model_id, create=create)
        appearance = MilvusSpace(looks, set() if create else None)
    return MilvusSpace(products, keys, replaces), appearance


def create_spaces(manifest: Manifest, columns, old: Manifest | None, store: str
                  ) -> tuple[MilvusSpace, MilvusSpace | None]:
    """Empty collections for a new index in ``store``. A new collection per build: the
    current index keeps serving from its own until this one's first save switches the
    manifest, which then drops the old one. Records the store in ``manifest``."""
    target = MilvusTarget.parse(store)
    manifest.vector_store = target.canonical
    manifest.vector_collection = f"{target.collection}_{uuid.uuid4().hex[:8]}"
    replaces = None
    if old is not None and old.vector_store and old.vector_collection:
        replaces = (old.vector_store, old.vector_collection)
    return _spaces(manifest, set(), True, replaces)


def open_spaces(folder: Path, manifest: Manifest, keys: set[int], columns) -> tuple[MilvusSpace, MilvusSpace | None]:
    """The collections of an existing index (checked against its model)."""
    return _spaces(manifest, set(keys), False, None)

