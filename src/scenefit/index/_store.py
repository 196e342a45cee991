"""A persistent FAISS vector index with its product records, in one folder.

Layout::

    DIR/manifest.json          model id, dimension, count, catalog hash, current generation
    DIR/gen-000007/vectors.faiss
    DIR/gen-000007/appearance.faiss  (image-to-image vectors, offline encoder)
    DIR/products.sqlite        product metadata, versioned by generation (or PostgreSQL)
    DIR/cache/embeddings.sqlite (the embedding cache, see scenefit.embed)
    DIR/reports/               per-ingest reports of rejected rows and failed images

Every save commits the new generation's product rows (invisible to readers until the
switch, see ``_records``), writes a complete new generation folder and then switches the
manifest to it with one atomic rename, so a crash mid-write leaves the previous generation
readable and readers never see vectors and products of different generations.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np

from .._errors import InvalidIndexError, ModelMismatchError
from . import _ann
from ._ann import AnnConfig
from ._appearance import AppearanceStore
from ._columns import Columns
from ._manifest import Manifest, now_iso
from ._records import FIELDS, RecordStore, open_store

if TYPE_CHECKING:
    import filelock

    from ._milvus import MilvusSpace

_KEEP_GENERATIONS = 2  # the current one and its predecessor, for readers mid-load
# A reader outrun by writers (its generation pruned mid-load) starts again from the newer
# manifest this many times in all before it reports the failure.
_OPEN_ATTEMPTS = 4


@dataclass
class ProductRecord:
    """What the index keeps about a product besides its vector."""

    id: str
    sku_id: str
    description: str
    image: str | None
    text: str
    category: str | None
    colours: list[str]
    materials: list[str]
    content_hash: str
    image_status: str  # "ok", "failed: <reason>", or "none"
    attributes: dict[str, Any] = field(default_factory=dict)
    key: int = -1  # FAISS id, assigned by the index


def _row(rec: ProductRecord) -> dict[str, Any]:
    return {f: getattr(rec, f) for f in FIELDS}


#: Product records kept in memory after a lookup (the candidates of recent queries); the
#: rest stay in the store of record until asked for.
RECORD_CACHE = 50_000


class VectorIndex:
    """Vectors in FAISS (inner product on L2-normalised rows = cosine) plus product records.

    Only ids and keys are loaded when an index opens; a product's record is read from the
    store of record when it is first needed (a query's candidates) and kept in a bounded
    cache, so opening a large index is quick and its memory does not grow with every field
    of every product.
    """

    def __init__(self, path: Path, manifest: Manifest, faiss_index, ids: dict[str, int],
                 appearance: AppearanceStore | None = None, *, store: RecordStore,
                 retired: set[int] | None = None, remote: "MilvusSpace | None" = None):
        self.path = path
        self.manifest = manifest
        self._faiss = faiss_index  # None when the vectors live in Milvus (``remote``)
        self._remote = remote
        self._pending: dict[int, np.ndarray] = {}  # remote: vectors to write at the next save
        self._garbage: set[int] = set()  # remote: retired keys whose delete failed, retried at the next save
        self._stale: tuple[str, str] | None = None  # remote: (store, collection) a rebuild replaces
        self._store = store
        # Changes since the last save, for the store: new rows and keys no longer current.
        self._added: dict[int, ProductRecord] = {}
        self._retired: set[int] = set(retired or ())
        #: image-to-image vectors of products with a photo, when the encoder makes them
        self.appearance = appearance
        self._by_id = ids
        self._cache: OrderedDict[int, ProductRecord] = OrderedDict()
        self._cache_max: int | None = RECORD_CACHE
        self._cache_lock = threading.Lock()
        self._reference: np.ndarray | None = None
        self._columns: Columns | None = None

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
        if vector_store:
            import uuid

            from ._milvus import MilvusTarget

            target = MilvusTarget.parse(vector_store)
            # A new collection per build: the current index keeps serving from its own until
            # this one's first save switches the manifest, which then drops the old one.
            manifest.vector_store = target.canonical
            manifest.vector_collection = f"{target.collection}_{uuid.uuid4().hex[:8]}"
            remote, appearance = _open_milvus(manifest, create=True)
            index = cls(path, manifest, None, {}, appearance, store=store, retired=set(retired), remote=remote)
            if old is not None and old.vector_store and old.vector_collection:
                index._stale = (old.vector_store, old.vector_collection)
            return index
        appearance = AppearanceStore.create(appearance_dim) if appearance_dim else None
        return cls(path, manifest, _ann.empty_flat(dim), {}, appearance, store=store, retired=set(retired))

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
        import faiss

        gen = path / _gen_name(manifest.generation)
        store = open_store(manifest.store, path, manifest.uid, database_url)
        ids = dict(store.load_ids(manifest.generation))
        if manifest.vector_store:
            remote, appearance = _open_milvus(manifest, create=False)
            return cls(path, manifest, None, ids, appearance, store=store, remote=remote)
        try:
            index = faiss.read_index(str(gen / "vectors.faiss"))
            _ann.apply_search_params(index, manifest.ann)
            appearance = AppearanceStore.read(gen, manifest.appearance_ann) if manifest.appearance_dim else None
        except Exception as exc:  # faiss raises RuntimeError
            # faiss puts its C++ call site in the message: keep the first clause only.
            detail = str(exc).splitlines()[0].split(" at /")[0][:200]
            raise InvalidIndexError(
                f"{gen}: index files unreadable ({detail}); "
                "rebuild with `scenefit ingest CATALOG --index DIR --rebuild`"
            ) from None
        if appearance is not None and (appearance.dim != manifest.appearance_dim
                                       or not appearance.keys() <= set(ids.values())):
            raise InvalidIndexError(f"{gen}: appearance vectors and products disagree; rebuild with "
                              "`scenefit ingest CATALOG --index DIR --rebuild`")
        if index.ntotal != len(ids) or index.d != manifest.dim:
            raise InvalidIndexError(f"{gen}: vectors and products disagree; rebuild with `scenefit ingest CATALOG --index DIR --rebuild`")
        return cls(path, manifest, index, ids, appearance, store=store)

    def is_current(self) -> bool:
        """Whether this is still the folder's current generation (a cheap check that serving
        processes make per request, to pick up other processes' writes)."""
        try:
            return Manifest.load(self.path).generation == self.manifest.generation
        except InvalidIndexError:
            return True  # mid-rebuild or damaged: keep serving what we have

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
        out: list[ProductRecord | None] = []
        missing: list[int] = []
        with self._cache_lock:
            for key in keys:
                key = int(key)
                rec = self._added.get(key) or self._cache.get(key)
                if rec is not None and key in self._cache:
                    self._cache.move_to_end(key)
                out.append(rec)
                if rec is None:
                    missing.append(key)
        if missing and self.manifest.generation > 0:
            fetched = {row["key"]: ProductRecord(**row) for row in self._store.get_many(self.manifest.generation, missing)}
            with self._cache_lock:
                for key, rec in fetched.items():
                    self._cache[key] = rec
                self._trim()
            out = [rec if rec is not None else fetched.get(int(k)) for rec, k in zip(out, keys)]
        return out

    def _trim(self) -> None:
        if self._cache_max is not None:
            while len(self._cache) > self._cache_max:
                self._cache.popitem(last=False)

    def preload(self) -> None:
        """Read every record now and keep them all (writers compare the whole catalog)."""
        self._cache_max = None
        if self.manifest.generation > 0:
            rows = self._store.load(self.manifest.generation)  # one scan, not a query per key
            with self._cache_lock:
                self._cache.update((row["key"], ProductRecord(**row)) for row in rows)

    def records(self, batch: int = 5000) -> Iterator[ProductRecord]:
        """Every product (streamed from the store in batches)."""
        keys = list(self._by_id.values())
        for i in range(0, len(keys), batch):
            for rec in self.records_for(keys[i : i + batch]):
                if rec is not None:
                    yield rec

    @property
    def columns(self) -> Columns:
        """Product fields as columns for filters (built on first use, dropped on change)."""
        if self._columns is None:
            self._columns = Columns(self.keys(), self.records())
        return self._columns

    @property
    def pushes_down_filters(self) -> bool:
        """Whether ``search`` takes filters as an expression the vector store evaluates
        (Milvus) rather than as allowed keys."""
        return self._remote is not None

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        if len(keys) == 0:
            return np.zeros((0, self.manifest.dim), np.float32)
        if self._remote is not None:
            from ._milvus import pending_first

            return pending_first(keys, self._pending, self._remote)
        return self._faiss.reconstruct_batch(np.asarray(keys, dtype=np.int64)).astype(np.float32)

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

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (keys, cosine scores); ``allowed`` restricts the search to those keys, or
        is a filter expression when the index ``pushes_down_filters``."""
        if len(self._by_id) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if allowed is not None and len(allowed) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, len(self._by_id))
        if self._remote is not None:
            scores, keys = self._remote.search(query.reshape(1, -1), k, allowed)
            mask = keys[0] >= 0
            return keys[0][mask], scores[0][mask]
        if isinstance(allowed, str):
            raise TypeError("a filter expression needs an index that pushes filters down")
        scores, keys = _ann.search(self._faiss, self.manifest.ann, query.reshape(1, -1), k, allowed)
        mask = keys[0] >= 0
        return keys[0][mask], scores[0][mask]

    # -- writing -------------------------------------------------------------------------
    def upsert(self, records: Sequence[ProductRecord], vectors: np.ndarray,
               appearance: dict[str, np.ndarray] | None = None) -> None:
        """Add or replace products; ``appearance`` maps product id → appearance vector for the
        products that have one (ignored when the index keeps no appearance space)."""
        self._reference = self._columns = None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(records), self.manifest.dim):
            raise ValueError(f"vectors shape {vectors.shape} != ({len(records)}, {self.manifest.dim})")
        if not np.all(np.isfinite(vectors)) or np.any(np.linalg.norm(vectors, axis=1) < 1e-6):
            raise ValueError("refusing to index zero or non-finite vectors")
        if self.appearance is not None and appearance:
            # Checked before anything changes, so a bad vector cannot leave a half-updated index.
            look = np.stack(list(appearance.values())).astype(np.float32)
            if look.shape[1] != self.appearance.dim or not np.all(np.isfinite(look)) \
                    or np.any(np.linalg.norm(look, axis=1) < 1e-6):
                raise ValueError("refusing appearance vectors of the wrong size, zero or non-finite")
        replaced = [(r.id, self._by_id[r.id]) for r in records if r.id in self._by_id]
        if replaced:
            self._remove_keys(replaced)
        keys = np.arange(self.manifest.next_key, self.manifest.next_key + len(records), dtype=np.int64)
        self.manifest.next_key += len(records)
        for rec, key in zip(records, keys):
            rec.key = int(key)
            self._by_id[rec.id] = rec.key
            self._added[rec.key] = rec
        if self._remote is not None:
            self._pending.update(zip(keys.tolist(), vectors))
        else:
            self._faiss.add_with_ids(vectors, keys)
        if self.appearance is not None and appearance:
            pairs = [(int(k), appearance[r.id]) for r, k in zip(records, keys) if r.id in appearance]
            if pairs:
                self.appearance.add(np.array([k for k, _ in pairs]), np.stack([v for _, v in pairs]))

    def delete(self, product_ids: Iterable[str]) -> int:
        pairs = [(i, self._by_id[i]) for i in dict.fromkeys(product_ids) if i in self._by_id]
        self._remove_keys(pairs)
        return len(pairs)

    def _remove_keys(self, pairs: list[tuple[str, int]]) -> None:
        """Remove products given as (id, key)."""
        self._reference = self._columns = None
        if not pairs:
            return
        keys = [key for _, key in pairs]
        if self._remote is not None:
            for key in keys:
                self._pending.pop(key, None)
        else:
            _ann.remove(self._faiss, keys)
        if self.appearance is not None:
            self.appearance.remove(keys)
        with self._cache_lock:
            for pid, key in pairs:
                self._by_id.pop(pid, None)
                self._cache.pop(key, None)
                if self._added.pop(key, None) is None:
                    self._retired.add(key)  # was saved: the store retires it

    def save(self, *, catalog_hash: str | None = None, ann: AnnConfig | None = None) -> None:
        """Write a new generation. The vector indexes are rebuilt first when their size calls
        for another kind (``ann``, default: the config recorded in the manifest)."""
        config = ann or self.manifest.ann_config
        keys = self.keys()
        if self._remote is None:
            self._faiss, ann_spec = _ann.rebuilt(self._faiss, self.manifest.ann, keys, config, storage=config.storage)
            appearance_spec = self.appearance.fit_index(config) if self.appearance is not None else self.manifest.appearance_ann
        else:
            ann_spec, appearance_spec = self.manifest.ann, self.manifest.appearance_ann
        self.path.mkdir(parents=True, exist_ok=True)
        generation = self.manifest.generation + 1
        # Rows first (invisible until the manifest names their generation); a writer that
        # crashed after this step left rows of a generation never reached: undo them.
        self._store.rollback_after(self.manifest.generation)
        self._store.commit(generation, [_row(r) for r in self._added.values()], sorted(self._retired))
        retired = sorted(self._retired)
        if self._remote is not None:
            self._flush_remote()
        else:
            self._write_generation(generation)
        manifest = self.manifest.model_copy(
            update={"generation": generation, "count": len(self._by_id), "updated_at": now_iso(),
                    "ann": ann_spec, "appearance_ann": appearance_spec, "ann_config": config}
        )
        if catalog_hash is not None:
            manifest.catalog_hash = catalog_hash
        manifest.write_atomic(self.path)  # the commit point
        self.manifest = manifest
        with self._cache_lock:  # now readable from the store at this generation
            self._cache.update(self._added)
            self._trim()
        self._added, self._retired = {}, set()
        if self._remote is not None:
            self._remote_cleanup(retired)
        self._prune_generations()

    def _write_generation(self, generation: int) -> None:
        """The FAISS files of a generation, written whole under a temporary name and renamed."""
        import faiss

        final = self.path / _gen_name(generation)
        tmp = self.path / f".{_gen_name(generation)}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            faiss.write_index(self._faiss, str(tmp / "vectors.faiss"))
            if self.appearance is not None:
                self.appearance.write(tmp)
            for f in tmp.iterdir():
                with f.open("rb") as fh:
                    os.fsync(fh.fileno())
            if final.exists():  # left by a crash after the rename below; never current
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _flush_remote(self) -> None:
        """Before the commit: write the new vectors (with the fields filters test) to Milvus.
        Keys are never reused, so vectors of a save that fails are orphans no record names
        (queries skip them) until the next writer reuses those keys."""
        from ._milvus import filter_fields

        self._remote.write(self._pending, lambda key: filter_fields(self._added[key]))
        if self.appearance is not None:
            self.appearance.flush_upserts(lambda key: filter_fields(self._added[key]))
        self._pending = {}

    def _remote_cleanup(self, retired: list[int]) -> None:
        """After the commit: delete retired vectors, and drop the collections a rebuild
        replaced. A Milvus failure here does not undo the (committed) save: the keys are
        retried at the next save, and queries skip them meanwhile (no record names them)."""
        from .._errors import BackendError
        from ._milvus import MilvusSpace, MilvusTarget

        todo = sorted(set(retired) | self._garbage)
        try:
            self._remote.remove(todo)
            if self.appearance is not None:
                self.appearance.remove(todo)
                self.appearance.flush_deletes(todo)
            self._garbage = set()
            if self._stale is not None:
                store, name = self._stale
                target = MilvusTarget.parse(store)
                for collection in (name, f"{name}_appearance"):
                    space = MilvusSpace(target, collection, 1)
                    if space.client.has_collection(collection):
                        space.drop()
                self._stale = None
        except BackendError:
            self._garbage = set(todo)

    def _prune_generations(self) -> None:
        current = self.manifest.generation
        self._store.prune(current - _KEEP_GENERATIONS + 1)
        for gen in _generations(self.path):
            if gen <= current - _KEEP_GENERATIONS:
                shutil.rmtree(self.path / _gen_name(gen), ignore_errors=True)
        # Half-written generations of a writer that crashed (writers hold the lock, so none
        # is in progress now).
        for tmp in self.path.glob(".gen-*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)


def _open_milvus(manifest: Manifest, *, create: bool):
    """The product and appearance collections of a Milvus-backed index. ``create``: a new
    build, which starts with empty collections."""
    from ._milvus import MilvusAppearance, MilvusSpace, MilvusTarget

    target = MilvusTarget.parse(manifest.vector_store)
    base = manifest.vector_collection or target.collection
    names = [base] + ([f"{base}_appearance"] if manifest.appearance_dim else [])
    dims = [manifest.dim, manifest.appearance_dim]
    spaces = []
    for name, dim in zip(names, dims):
        spaces.append(MilvusSpace.open(target, name, dim=dim, model_id=manifest.model_id, create=create))
    appearance = None
    if len(spaces) > 1:
        appearance = MilvusAppearance(spaces[1], np.zeros(0, np.int64) if create else None)
    return spaces[0], appearance


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

