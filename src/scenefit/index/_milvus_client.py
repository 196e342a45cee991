"""The Milvus client side: where a store is (``--store URI``), one client per server or file,
and one collection of int64 key → vector plus the fields filters test.

``URI`` is ``milvus://HOST:PORT/COLLECTION`` (a Milvus server) or a file path ending in
``.db`` (Milvus Lite, embedded, collection ``scenefit``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .._errors import BackendError, ConfigError, InvalidIndexError, ModelMismatchError

_MODEL_PROPERTY = "scenefit.model_id"
_BATCH = 1000  # rows per upsert / ids per get


@dataclass(frozen=True)
class MilvusTarget:
    uri: str  # what MilvusClient connects to
    collection: str

    @classmethod
    def parse(cls, store: str) -> "MilvusTarget":
        if store.startswith("milvus://"):
            rest = store[len("milvus://"):]
            host, sep, collection = rest.partition("/")
            if not host or not sep or not collection or "/" in collection:
                raise ConfigError(f"--store {store!r}: expected milvus://HOST:PORT/COLLECTION")
            return cls(f"http://{host}", collection)
        if store.endswith(".db"):
            return cls(str(Path(store).expanduser().absolute()), "scenefit")
        raise ConfigError(f"--store {store!r}: expected milvus://HOST:PORT/COLLECTION or a Milvus Lite file (*.db)")

    @property
    def lite(self) -> bool:
        return not self.uri.startswith("http")

    @property
    def canonical(self) -> str:
        """The store as recorded in a manifest: a Lite file as an absolute path (the index
        is opened from other directories), a server as milvus://HOST:PORT/COLLECTION."""
        return self.uri if self.lite else f"milvus://{self.uri[len('http://'):]}/{self.collection}"


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise ConfigError("--store milvus needs pymilvus (and milvus-lite for a .db file): "
                          "pip install 'scenefit[milvus]'") from None
    return pymilvus


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(target: MilvusTarget):
    """One client per server or file in a process (Milvus Lite opens a file once)."""
    pymilvus = _pymilvus()
    # pymilvus logs every failed call with a traceback; scenefit reports it once, as one line.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(target.uri)
        if client is None:
            if target.lite:
                Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                client = pymilvus.MilvusClient(uri=target.uri, timeout=10)
            except Exception as exc:  # noqa: BLE001 - pymilvus raises several unrelated types
                hint = " (a Milvus Lite file is opened by one process at a time)" if target.lite else ""
                raise BackendError(f"cannot reach Milvus at {target.uri}: {_message(exc)}{hint}") from None
            _CLIENTS[target.uri] = client
        return client


def _call(what: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - MilvusException, grpc errors
        raise BackendError(f"Milvus {what} failed: {_message(exc)}") from None


def _message(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)  # MilvusException keeps the server's words apart
    return (text.splitlines() or [type(exc).__name__])[0][:300]


class MilvusCollection:
    """One collection: int64 key → vector plus filter fields."""

    def __init__(self, target: MilvusTarget, collection: str, dim: int):
        self.target, self.collection, self.dim = target, collection, dim
        self.client = _client(target)

    @classmethod
    def open(cls, target: MilvusTarget, collection: str, *, dim: int, model_id: str, create: bool) -> "MilvusCollection":
        """The collection of an existing index (checked against its model), or with
        ``create`` a new, empty one (an existing collection of that name is dropped: a new
        index starts afresh)."""
        space = cls(target, collection, dim)
        client = space.client
        where = f"Milvus collection {collection!r} at {target.uri}"
        exists = _call("has_collection", client.has_collection, collection)
        if create:
            if exists:
                space.drop()
            space._create(model_id)
            return space
        if not exists:
            raise InvalidIndexError(f"{where} does not exist; rebuild with `scenefit ingest CATALOG --index DIR --rebuild`")
        _call("load_collection", client.load_collection, collection)  # a restarted server keeps it released
        info = _call("describe_collection", client.describe_collection, collection)
        found_dim = next((int(f["params"]["dim"]) for f in info["fields"] if f["name"] == "vector"), None)
        found_model = (info.get("properties") or {}).get(_MODEL_PROPERTY)
        if found_dim != dim or found_model != model_id:
            raise ModelMismatchError(
                f"{where} holds model {found_model!r} (dim {found_dim}), not {model_id!r} (dim {dim}); "
                "use another collection, or drop this one")
        return space

    def _create(self, model_id: str) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("category", DataType.VARCHAR, max_length=512)
        schema.add_field("price", DataType.DOUBLE)
        schema.add_field("has_price", DataType.BOOL)
        schema.add_field("attrs", DataType.JSON)
        params = self.client.prepare_index_params()
        # Exact inner product: the vectors are L2-normalised, so this is cosine, as in FAISS.
        # A Milvus server can be given an ANN index on this field by its operator.
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        # Strong: a search right after a save must see it (a server's default, Bounded, may not).
        _call("create_collection", self.client.create_collection, self.collection, schema=schema,
              index_params=params, properties={_MODEL_PROPERTY: model_id}, consistency_level="Strong")

    def upsert(self, keys: Sequence[int], vectors: np.ndarray, fields: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(keys), _BATCH):
            rows = [{"key": int(k), "vector": v.astype(np.float32).tolist(), **f}
                    for k, v, f in zip(keys[start : start + _BATCH], vectors[start : start + _BATCH],
                                       fields[start : start + _BATCH])]
            _call("upsert", self.client.upsert, self.collection, rows)

    def delete(self, keys: Sequence[int]) -> None:
        keys = [int(k) for k in keys]
        for start in range(0, len(keys), _BATCH):
            _call("delete", self.client.delete, self.collection, ids=keys[start : start + _BATCH])

    def flush(self) -> None:
        """Seal what was written: Milvus Lite searches unsealed rows one by one, many times
        slower (`scenefit bench --only scaleout` measures both; docs/scale-out.md)."""
        _call("flush", self.client.flush, self.collection)

    def write(self, vectors: dict[int, np.ndarray], fields_of) -> None:
        """Upsert ``vectors`` (key → vector) with ``fields_of(key)``, then flush."""
        if vectors:
            keys = sorted(vectors)
            self.upsert(keys, np.stack([vectors[k] for k in keys]), [fields_of(k) for k in keys])
            self.flush()

    def remove(self, keys: Iterable[int]) -> None:
        """Delete ``keys``, then flush."""
        keys = sorted(int(k) for k in keys)
        if keys:
            self.delete(keys)
            self.flush()

    def count(self) -> int:
        return int(_call("get_collection_stats", self.client.get_collection_stats, self.collection)["row_count"])

    def all_keys(self) -> np.ndarray:
        keys: list[int] = []
        iterator = _call("query_iterator", self.client.query_iterator, self.collection, batch_size=10_000,
                         filter="key >= 0", output_fields=["key"])
        while True:
            page = _call("query", iterator.next)
            if not page:
                iterator.close()
                break
            keys.extend(int(r["key"]) for r in page)
        return np.array(sorted(keys), dtype=np.int64)

    def get(self, keys: Sequence[int]) -> np.ndarray:
        """Vectors of ``keys`` in order; zeros for a key the collection does not hold (a
        product deleted after the reader's generation was loaded)."""
        keys = [int(k) for k in keys]
        out = np.zeros((len(keys), self.dim), np.float32)
        at: dict[int, list[int]] = {}
        for i, k in enumerate(keys):
            at.setdefault(k, []).append(i)
        unique = list(at)
        for start in range(0, len(unique), _BATCH):
            rows = _call("get", self.client.get, self.collection, ids=unique[start : start + _BATCH], output_fields=["vector"])
            for row in rows:
                out[at[int(row["key"])]] = np.asarray(row["vector"], np.float32)
        return out

    def search(self, queries: np.ndarray, k: int, expression: str = "") -> tuple[np.ndarray, np.ndarray]:
        """(scores, keys), each (n_queries, k), padded with -1 keys, like FAISS. ``expression``:
        a Milvus boolean filter the server evaluates ("": none)."""
        queries = np.atleast_2d(queries).astype(np.float32)
        res = _call("search", self.client.search, self.collection, data=[q.tolist() for q in queries],
                    limit=int(k), filter=expression, output_fields=["key"],
                    search_params={"metric_type": "IP"})
        scores = np.full((len(queries), k), -np.inf, np.float32)
        keys = np.full((len(queries), k), -1, np.int64)
        for i, hits in enumerate(res):
            for j, hit in enumerate(list(hits)[:k]):
                keys[i, j] = int(hit["key"] if "key" in hit else hit["id"])
                scores[i, j] = float(hit["distance"])
        return scores, keys

    def drop(self) -> None:
        _call("drop_collection", self.client.drop_collection, self.collection)
