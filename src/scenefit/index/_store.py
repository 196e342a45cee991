"""A persistent vector index with its product records, in one folder.

Layout::

    DIR/manifest.json          model id, dimension, count, catalog hash, current generation
    DIR/gen-000007/vectors.faiss
    DIR/gen-000007/appearance.faiss  (image-to-image vectors, offline encoder)
    DIR/products.sqlite        product metadata, versioned by generation (or PostgreSQL)
    DIR/cache/embeddings.sqlite (the embedding cache, see scenefit.embed)
    DIR/reports/               per-ingest reports of rejected rows and failed images

Every save commits the new generation's product rows (invisible to readers until the
switch, see ``_records``), has each vector space commit (FAISS: the new generation folder's
files, each written atomically; Milvus: the new vectors, no folder) and then switches the
manifest to it with one atomic rename, so a crash mid-write leaves the previous generation
readable and readers never see vectors and products of different generations. Where the
vectors live is chosen once, by ``_backends``, when the index is created or opened.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .._errors import ConfigError, InvalidIndexError, ModelMismatchError
from ._ann import AnnConfig
from ._backends import Spaces, create_spaces, open_spaces
from ._columns import Columns
from ._filters import Filters, FilterSpec
from ._manifest import Manifest, now_iso
from ._photos import further, owners, photo_keys, photos_of
from ._product import ProductRecord
from ._record_cache import RecordCache
from ._records import RecordStore, open_store
from ._space import VectorSpace

if TYPE_CHECKING:
    import filelock

_KEEP_GENERATIONS = 2  # the current one and its predecessor, for readers mid-load
# A reader outrun by writers (its generation pruned mid-load) starts again from the newer
# manifest this many times in all before it reports the failure.
_OPEN_ATTEMPTS = 4

#: Product records kept in memory after a lookup (the candidates of recent queries); the
#: rest stay in the store of record until asked for.
RECORD_CACHE = 50_000


class VectorIndex:
    """Product vectors in a vector space (cosine: inner product on L2-normalised rows) plus
    product records.

    Only ids and keys are loaded when an index opens; a product's record is read from the
    store of record when it is first needed (a query's candidates) and kept in a bounded
    cache, so opening a large index is quick and its memory does not grow with every field
    of every product.
    """

    def __init__(self, path: Path, manifest: Manifest, ids: dict[str, int], *, store: RecordStore,
                 spaces: "Callable[[Callable[[], Columns]], Spaces]", retired: set[int] | None = None):
        """``spaces(columns)``: the (products, appearance) spaces, given this index's columns
        (for the spaces that resolve filters against them)."""
        self.path = path
        self.manifest = manifest
        self._store = store
        # Changes since the last save, for the store: new rows and keys no longer current.
        self._added: dict[int, ProductRecord] = {}
        self._retired: set[int] = set(retired or ())
        self._by_id = ids
        self._cache = RecordCache(RECORD_CACHE)
        self._reference: np.ndarray | None = None
        self._columns: Columns | None = None
        self._field_names: set[str] | None = None
        space, appearance = spaces(lambda: self.columns)
        self._space: VectorSpace = space
        #: image-to-image vectors of products with a photo, when the encoder makes them
        self.appearance: VectorSpace | None = appearance

    # -- opening -------------------------------------------------------------------------
    @staticmethod
    def exists(path: str | Path) -> bool:
        return (Path(path) / "manifest.json").is_file()

    @staticmethod
    def write_lock(path: str | Path, timeout_s: float = 600) -> "filelock.FileLock":
        """An inter-process lock for writers of this index folder.

        Readers need none (they follow the manifest), but two writers doing read-modify-write
        would lose each other's changes or remove each other's generation folders.
        """
        import filelock

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(path / ".write.lock"), timeout=timeout_s)

    @classmethod
    def create(cls, path: str | Path, *, model_id: str, dim: int, encoder: dict[str, Any],
               appearance_dim: int = 0, database_url: str | None = None,
               ann: AnnConfig | None = None, vector_store: str | None = None) -> "VectorIndex":
        """A new, empty index (saved on the first ``save``). Product metadata goes to
        PostgreSQL when ``database_url`` is given, else to SQLite in the folder. Vectors go
        to FAISS files in the folder, or to Milvus when ``vector_store`` names a collection
        (which is emptied: a new index starts afresh)."""

        from .._version import __version__

        path = Path(path)
        manifest = Manifest(model_id=model_id, dim=dim, encoder=encoder, scenefit_version=__version__,
                            appearance_dim=appearance_dim, store="postgres" if database_url else "sqlite",
                            ann_config=ann or AnnConfig())
        # A new index in an old folder (a rebuild, perhaps of a corrupt index) continues the
        # generation count, so its first save never collides with a folder already there, and
        # keeps the old index's name and keys, so its first save retires the old rows.
        manifest.generation = max(_generations(path), default=0)
        retired: list[int] = []
        try:
            old = Manifest.load(path) if cls.exists(path) else None
        except InvalidIndexError:
            old = None  # unreadable: its rows are orphaned (SQLite drops them on the first save)
        if old is not None and old.store == manifest.store:
            manifest.uid, manifest.next_key = old.uid, old.next_key
            try:
                retired = [r["key"] for r in open_store(old.store, path, old.uid, database_url).load(old.generation)]
            except InvalidIndexError:
                pass
        store = open_store(manifest.store, path, manifest.uid, database_url)
        return cls(path, manifest, {}, store=store, retired=set(retired),
                   spaces=lambda columns: create_spaces(manifest, columns, old, vector_store))

    @classmethod
    def open(cls, path: str | Path, *, database_url: str | None = None) -> "VectorIndex":
        """The index's current generation. ``database_url``: the PostgreSQL database of an
        index built with one (ignored for an index that keeps its products in SQLite)."""
        path = Path(path)
        if not path.is_dir():
            raise InvalidIndexError(f"{path}: no such index folder; run `scenefit ingest CATALOG --index {path}`")
        manifest = Manifest.load(path)
        for _ in range(_OPEN_ATTEMPTS - 1):
            try:
                return cls._open_generation(path, manifest, database_url)
            except InvalidIndexError:
                # Loading reads the manifest, then the ids, then the files: writers that
                # saved meanwhile may have pruned the generation it started from. Only a
                # failure with the manifest unchanged means the index itself is broken.
                newer = Manifest.load(path)
                if newer.generation == manifest.generation:
                    raise
                manifest = newer
        return cls._open_generation(path, manifest, database_url)

    @classmethod
    def _open_generation(cls, path: Path, manifest: Manifest, database_url: str | None) -> "VectorIndex":
        store = open_store(manifest.store, path, manifest.uid, database_url)
        ids = dict(store.load_ids(manifest.generation))
        keys = set(ids.values())
        folder = path / _gen_name(manifest.generation)
        return cls(path, manifest, ids, store=store,
                   spaces=lambda columns: open_spaces(folder, manifest, keys, columns))

    def is_current(self) -> bool:
        """Whether this is still the folder's current generation (a cheap check that serving
        processes make per request, to pick up other processes' writes)."""
        try:
            return Manifest.load(self.path).generation == self.manifest.generation
        except InvalidIndexError:
            return True  # mid-rebuild or damaged: keep serving what we have

    def check_store(self, vector_store: str | None) -> None:
        """Refuse a write that names another vector store than the index keeps (None: any)."""
        if vector_store and vector_store != self.manifest.vector_store:
            raise ConfigError(f"{self.path} keeps its vectors in {self.manifest.vector_store or 'FAISS files'}, "
                              f"not {vector_store}; add --rebuild to move them")

    def check_model(self, model_id: str, dim: int) -> None:
        """Refuse an encoder other than the one the index was built with."""
        if model_id != self.manifest.model_id or dim != self.manifest.dim:
            raise ModelMismatchError(
                f"{self.path}: index was built with model {self.manifest.model_id!r} "
                f"(dim {self.manifest.dim}), not {model_id!r} (dim {dim}); query it with the same "
                f"encoder or rebuild it with `scenefit ingest --rebuild`"
            )

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_id)

    def ids(self) -> list[str]:
        return list(self._by_id)

    def keys(self) -> np.ndarray:
        return np.fromiter(self._by_id.values(), np.int64, count=len(self._by_id))

    def get(self, product_id: str) -> ProductRecord | None:
        key = self._by_id.get(product_id)
        return None if key is None else self.records_for([key])[0]

    def record(self, key: int) -> ProductRecord:
        rec = self.records_for([key])[0]
        if rec is None:
            raise KeyError(key)
        return rec

    def records_for(self, keys: Sequence[int]) -> list[ProductRecord | None]:
        """Records of ``keys`` in order; None for a key this generation does not hold (a
        reader that fell two writes behind mid-request)."""
        keys = [int(k) for k in keys]
        cached = self._cache.get_many(keys)
        out = [self._added.get(k) or rec for k, rec in zip(keys, cached)]
        missing = [k for k, rec in zip(keys, out) if rec is None]
        if missing and self.manifest.generation > 0:
            fetched = {row["key"]: ProductRecord.from_row(row)
                       for row in self._store.get_many(self.manifest.generation, missing)}
            self._cache.put(fetched.items())
            out = [rec if rec is not None else fetched.get(k) for rec, k in zip(out, keys)]
        return out

    def preload(self) -> None:
        """Read every record now and keep them all (writers compare the whole catalog)."""
        self._cache.unbounded()
        if self.manifest.generation > 0:
            rows = self._store.load(self.manifest.generation)  # one scan, not a query per key
            self._cache.put((row["key"], ProductRecord.from_row(row)) for row in rows)

    def records(self, batch: int = 5000) -> Iterator[ProductRecord]:
        """Every product (streamed from the store in batches)."""
        keys = list(self._by_id.values())
        for i in range(0, len(keys), batch):
            for rec in self.records_for(keys[i : i + batch]):
                if rec is not None:
                    yield rec

    @property
    def columns(self) -> Columns:
        """Product fields as columns, for the spaces that resolve filters to keys (built on
        first use, dropped on change)."""
        if self._columns is None:
            self._columns = Columns(self.keys(), self.records())
        return self._columns

    def filter_fields(self) -> set[str]:
        """The names a filter may test (lower-case): every catalog column of the products,
        plus the record fields. Asked of the store of record, not read from every record."""
        if self._field_names is None:
            names = self._store.field_names(self.manifest.generation) if self.manifest.generation > 0 else set()
            self._field_names = names
        names = set(self._field_names)
        for rec in self._added.values():
            names.update(rec.attributes)
        return {n.strip().lower() for n in names}

    def resolve(self, filters: "Filters | FilterSpec | None") -> FilterSpec | None:
        """``filters`` checked against the index's fields (unknown ones are a ConfigError) and
        made ready for the searches of both spaces; None when there is no filter."""
        if filters is None or isinstance(filters, FilterSpec):
            return filters
        spec = filters.spec(self.filter_fields())
        if spec is not None:
            self._space.prepare(spec)
        return spec

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        if len(keys) == 0:
            return np.zeros((0, self.manifest.dim), np.float32)
        return self._space.vectors(keys)

    def photos(self, keys: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The appearance-space keys of these products' photos, and for each the position in
        ``keys`` of its product: first photos (in ``keys`` order), then further ones."""
        if self.appearance is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return photos_of(self.appearance.key_array(), np.asarray(keys, np.int64))

    def photo_counts(self) -> dict[int, int]:
        """How many photos with an appearance vector each product key has (none: left out)."""
        if self.appearance is None or not len(self.appearance):
            return {}
        keys, counts = np.unique(owners(self.appearance.key_array()), return_counts=True)
        return dict(zip(keys.tolist(), counts.tolist()))

    def reference_vectors(self, n: int = 2048) -> np.ndarray:
        """A fixed random sample of the index's vectors (seeded, so stable between calls).

        The ranker compares a query's cosines against it to express similarity as a
        percentile of the whole catalog. Cached until the index changes.
        """
        if self._reference is None:
            keys = self.keys()
            if len(keys) > n:
                keys = np.random.default_rng(0).choice(keys, size=n, replace=False)
            self._reference = self.vectors(np.sort(keys))
        return self._reference

    def search(self, query: np.ndarray, k: int, filters: "Filters | FilterSpec | None" = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (keys, cosine scores), restricted to the products that pass ``filters``."""
        spec = self.resolve(filters)
        if len(self._by_id) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, keys = self._space.search(query.reshape(1, -1), min(k, len(self._by_id)), spec)
        mask = keys[0] >= 0
        return keys[0][mask], scores[0][mask]

    # -- writing -------------------------------------------------------------------------
    def _changed(self) -> None:
        self._reference = self._columns = self._field_names = None

    def upsert(self, records: Sequence[ProductRecord], vectors: np.ndarray,
               appearance: dict[str, np.ndarray] | None = None) -> None:
        """Add or replace products; ``appearance`` maps product id → appearance vector for the
        products that have one, or a (photos, dim) array for those with several, the first
        photo first (ignored when the index keeps no appearance space). The index keeps keyed
        copies: ``records`` are left as they are."""
        self._changed()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(records), self.manifest.dim):
            raise ValueError(f"vectors shape {vectors.shape} != ({len(records)}, {self.manifest.dim})")
        if not np.all(np.isfinite(vectors)) or np.any(np.linalg.norm(vectors, axis=1) < 1e-6):
            raise ValueError("refusing to index zero or non-finite vectors")
        if self.appearance is not None and appearance:
            # Checked before anything changes, so a bad vector cannot leave a half-updated index.
            look = np.concatenate([np.atleast_2d(v) for v in appearance.values()]).astype(np.float32)
            if look.shape[1] != self.appearance.dim or not np.all(np.isfinite(look)) \
                    or np.any(np.linalg.norm(look, axis=1) < 1e-6):
                raise ValueError("refusing appearance vectors of the wrong size, zero or non-finite")
        replaced = [(r.id, self._by_id[r.id]) for r in records if r.id in self._by_id]
        if replaced:
            self._remove_keys(replaced)
        keys = np.arange(self.manifest.next_key, self.manifest.next_key + len(records), dtype=np.int64)
        self.manifest.next_key += len(records)
        for rec, key in zip(records, keys.tolist()):
            self._by_id[rec.id] = key
            self._added[key] = rec.with_key(key)
        self._space.add(keys, vectors)
        if self.appearance is not None and appearance:
            looks = [(int(k), np.atleast_2d(appearance[r.id])) for r, k in zip(records, keys) if r.id in appearance]
            if looks:
                self.appearance.add(np.concatenate([photo_keys(k, len(v)) for k, v in looks]),
                                    np.concatenate([v for _, v in looks]))

    def delete(self, product_ids: Iterable[str]) -> int:
        pairs = [(i, self._by_id[i]) for i in dict.fromkeys(product_ids) if i in self._by_id]
        self._remove_keys(pairs)
        return len(pairs)

    def _remove_keys(self, pairs: list[tuple[str, int]]) -> None:
        """Remove products given as (id, key)."""
        self._changed()
        if not pairs:
            return
        keys = [key for _, key in pairs]
        self._space.remove(keys)
        if self.appearance is not None:
            extra = further(self.appearance.key_array())
            self.appearance.remove(keys + extra[np.isin(owners(extra), keys)].tolist())
        self._cache.discard(keys)
        for pid, key in pairs:
            self._by_id.pop(pid, None)
            if self._added.pop(key, None) is None:
                self._retired.add(key)  # was saved: the store retires it

    def save(self, *, catalog_hash: str | None = None, ann: AnnConfig | None = None) -> None:
        """Write a new generation. The vector indexes are rebuilt first when their size calls
        for another kind (``ann``, default: the config recorded in the manifest)."""
        config = ann or self.manifest.ann_config
        self.path.mkdir(parents=True, exist_ok=True)
        generation = self.manifest.generation + 1
        # Rows first (invisible until the manifest names their generation); a writer that
        # crashed after this step left rows of a generation never reached: undo them.
        self._store.rollback_after(self.manifest.generation)
        self._store.commit(generation, [r.to_row() for r in self._added.values()], sorted(self._retired))
        folder = self.path / _gen_name(generation)
        # Left by a writer that crashed before its switch (never current): start it afresh.
        shutil.rmtree(folder, ignore_errors=True)
        ann_spec = self._space.commit(folder, config, self._added.__getitem__)
        appearance_spec = self.manifest.appearance_ann
        if self.appearance is not None:
            appearance_spec = self.appearance.commit(folder, config, lambda k: self._added[int(owners(k))])
        manifest = self.manifest.model_copy(
            update={"generation": generation, "count": len(self._by_id), "updated_at": now_iso(),
                    "ann": ann_spec, "appearance_ann": appearance_spec, "ann_config": config}
        )
        if catalog_hash is not None:
            manifest.catalog_hash = catalog_hash
        manifest.write_atomic(self.path)  # the commit point
        self.manifest = manifest
        self._cache.put(self._added.items())  # now readable from the store at this generation
        self._added, self._retired = {}, set()
        self._space.after_commit()
        if self.appearance is not None:
            self.appearance.after_commit()
        self._prune_generations()

    def _prune_generations(self) -> None:
        current = self.manifest.generation
        self._store.prune(current - _KEEP_GENERATIONS + 1)
        for gen in _generations(self.path):
            if gen <= current - _KEEP_GENERATIONS:
                shutil.rmtree(self.path / _gen_name(gen), ignore_errors=True)
        # Half-written generation folders of a writer that crashed (writers hold the lock,
        # so none is in progress now).
        for tmp in self.path.glob(".gen-*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)


def _generations(path: Path) -> list[int]:
    out = []
    for child in path.glob("gen-*") if path.is_dir() else ():
        try:
            out.append(int(child.name.split("-", 1)[1]))
        except ValueError:
            continue
    return out


def _gen_name(generation: int) -> str:
    return f"gen-{generation:06d}"

