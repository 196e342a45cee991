"""Ingest on a Ray cluster (``scenefit ingest … --runner ray``).

Only the expensive, parallel stages move to Ray: image fetching (Ray Data tasks) and
embedding (``map_batches`` over a pool of encoder actors, one model load per actor, GPU
actors for CLIP when the cluster has GPUs). The actors run the same batch function as the
local runner (``embed_items``) and write what they compute as Parquet shards; the driver
reads the shards back and builds the index with the local code path, so row accounting,
the embedding cache and the index are the same whichever runner ran.

Ray Data reads the catalog file (a local path or any URI Ray reads: s3://, gs://, …); its
bytes are parsed on the driver by the same reader as the local runner, because row numbers,
duplicate-id checks and rejection reasons need the rows in file order.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .._errors import BackendError, ConfigError
from ._ingest import EmbedItem, EmbedOutput, IngestConfig, embed_items
from ..catalog import Catalog
from ..embed import EncoderConfig, build_encoder
from ..images import FetchConfig, FetchResult, ImageFetcher

_EMBED_BATCH = 64  # items per actor call
_FETCH_BATCH = 256  # image sources per fetch task


def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--runner ray needs Ray: pip install 'scenefit[ray]'") from None
    return ray


def connect(address: str | None, *, num_cpus: int | None = None) -> bool:
    """Join the cluster at ``address`` (``auto``, ``ray://HOST:PORT``), or start a local one
    on this machine's CPUs when ``address`` is None. A connection already made is reused.
    Returns whether this call connected (the caller may then ``ray.shutdown()``)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    import ray.data  # noqa: F401 - configures its loggers on import: quieten them after

    _quiet()
    kwargs = dict(log_to_driver=False, include_dashboard=False, logging_level=logging.WARNING,
                  ignore_reinit_error=True)
    if address is None:
        kwargs["num_cpus"] = num_cpus
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise BackendError(f"cannot reach the Ray cluster at {address}: {str(exc).splitlines()[0]}") from None
    from ray.data import DataContext

    _quiet()
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False  # scenefit shows its own
    ctx.print_on_execution_start = False
    return True


def _quiet() -> None:
    """scenefit reports progress and errors itself: Ray's INFO and DEBUG lines (Ray Data
    dumps its whole config at DEBUG) would bury them."""
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


class _EncoderActor:
    """One per Ray worker: loads the encoder once and embeds batches of items. The encoder
    config and weight are class attributes of a subclass made per job (:func:`_actor_class`),
    so Ray ships them with the class rather than as constructor arguments."""

    encoder_config: dict = {}
    weight: float = 0.5

    def __init__(self):
        self.encoder, _, _ = build_encoder(EncoderConfig.model_validate(self.encoder_config))

    def __call__(self, batch):
        fields = [f.name for f in dataclasses.fields(EmbedItem)]
        items = [EmbedItem(*(None if isinstance(v, str) and not v else v for v in row))
                 for row in zip(*(batch[f] for f in fields))]
        return _to_table(embed_items(items, self.encoder, self.weight))


def _actor_class(encoder: EncoderConfig, weight: float) -> type:
    return type("EncoderActor", (_EncoderActor,), {"encoder_config": encoder.model_dump(), "weight": weight})


def _fetch_batch(batch, config: dict):
    import pyarrow as pa

    results = ImageFetcher(FetchConfig.model_validate(config)).fetch_many(batch.column("source").to_pylist())
    sources = list(results)
    return pa.table({"source": sources,
                     "path": [str(r.path) if r.path else None for r in results.values()],
                     "error": [r.error for r in results.values()]})


class RayRunner:
    """The :class:`scenefit.pipelines._ingest.Runner` that fetches and embeds on a Ray cluster."""

    name = "ray"

    def __init__(self, encoder: EncoderConfig, config: IngestConfig, shards_dir: Path):
        self.config = config
        self.shards_dir = shards_dir
        connect(config.ray_address)
        resources = _ray().cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus and (on_gpu := encoder.on_gpu()) is not None:
            # One GPU per encoder actor, the model on CUDA.
            self.encoder, self.actors, self.reserve = on_gpu, gpus, {"num_gpus": 1}
        else:
            # One CPU each: the models' own thread pools follow OMP_NUM_THREADS, which Ray
            # sets to the CPUs an actor holds, so the actors don't oversubscribe the cores.
            self.encoder, self.actors, self.reserve = encoder, max(1, int(resources.get("CPU", 1))), {"num_cpus": 1}

    def fetch(self, sources: Sequence[str], fetch: FetchConfig, advance) -> dict[str, FetchResult]:
        ray = _ray()
        ds = ray.data.from_items([{"source": s} for s in sources])
        ds = ds.map_batches(_fetch_batch, fn_kwargs={"config": fetch.model_dump(mode="json")},
                            batch_size=_FETCH_BATCH, batch_format="pyarrow")
        results: dict[str, FetchResult] = {}
        with _job("image fetching"):
            for row in ds.iter_rows():
                results[row["source"]] = FetchResult(row["source"], Path(row["path"]) if row["path"] else None, row["error"])
                advance(1)
        return results

    def embed(self, items: list[EmbedItem]) -> Iterator[EmbedOutput]:
        if not items:
            return
        ray = _ray()
        n = max(1, min(self.actors, -(-len(items) // _EMBED_BATCH)))  # no idle actors for a small job
        target = self.shards_dir / f"run-{uuid.uuid4().hex[:8]}"
        # None as "": a column of only None would reach the actors as NaN floats.
        rows = [{k: "" if v is None else v for k, v in dataclasses.asdict(it).items()} for it in items]
        ds = ray.data.from_items(rows).map_batches(
            _actor_class(self.encoder, self.config.image_weight), batch_size=_EMBED_BATCH, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=n), **self.reserve)
        try:
            with _job("embedding"):
                ds.write_parquet(str(target))
            yield from read_shards(target)
        finally:
            shutil.rmtree(target, ignore_errors=True)


def read_catalog(source: str, address: str | None = None) -> Catalog:
    """The catalog at ``source`` read through Ray Data and validated by scenefit's reader.
    Relative image paths resolve against the catalog's folder when it is local."""
    import tempfile

    connect(address)
    ray = _ray()
    local = "://" not in source
    if local and not Path(source).is_file():
        from .._errors import CatalogError

        raise CatalogError(f"{source}: no such catalog file")
    with _job("catalog read"):
        # A local path must be visible to the node that reads it: on a real cluster, put the
        # catalog on shared or cloud storage (as the image cache and shards).
        files = ray.data.read_binary_files(str(Path(source).absolute()) if local else source).take_all()
    if len(files) != 1:
        raise ConfigError(f"{source}: expected one catalog file, found {len(files)}")
    name = source.rstrip("/").rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / name  # the reader knows the format by the suffix
        copy.write_bytes(files[0]["bytes"])
        return Catalog.read(copy, source=source, base=Path(source).absolute().parent if local else None)


@contextmanager
def _job(what: str):
    """A Ray job's failure as one scenefit error (the task's own traceback is in Ray's logs)."""
    ray = _ray()
    try:
        yield
    except (ray.exceptions.RayError, OSError) as exc:  # OSError: a path Ray's readers cannot open
        cause = getattr(exc, "cause", None) or exc
        first = next((line for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
        raise BackendError(f"Ray {what} failed: {first[:300]}") from None


# A shard row: (kind, key, float32 vector bytes or None, error or None), one per product
# vector, appearance vector or undecodable image of an EmbedOutput.
def _to_table(out: EmbedOutput):
    import pyarrow as pa

    rows = [("vector", h, v.astype(np.float32).tobytes(), None) for h, v in out.vectors.items()]
    rows += [("appearance", sha, v.astype(np.float32).tobytes(), None) for sha, v in out.appearance.items()]
    rows += [("bad_image", sha, None, err) for sha, err in out.bad_images.items()]
    kinds, keys, vecs, errors = zip(*rows) if rows else ((), (), (), ())
    return pa.table({"kind": pa.array(kinds, pa.string()), "key": pa.array(keys, pa.string()),
                     "vector": pa.array(vecs, pa.binary()), "error": pa.array(errors, pa.string())})


def _from_table(table) -> EmbedOutput:
    out = EmbedOutput()
    by_kind = {"vector": out.vectors, "appearance": out.appearance}
    for kind, key, vec, err in zip(*(table.column(c).to_pylist() for c in ("kind", "key", "vector", "error"))):
        if kind == "bad_image":
            out.bad_images[key] = err
        else:
            by_kind[kind][key] = np.frombuffer(vec, dtype=np.float32).copy()
    return out


def read_shards(folder: Path) -> Iterator[EmbedOutput]:
    """The embeddings written by the encoder actors, one :class:`EmbedOutput` per shard."""
    import pyarrow.parquet as pq

    for path in sorted(folder.glob("*.parquet")):
        yield _from_table(pq.read_table(path))


def shards_root(index_dir: Path) -> Path:
    """Where an ingest's shards go. A real cluster's workers must see it (a shared
    filesystem); SCENEFIT_SHARDS_DIR moves it there."""
    return Path(os.environ.get("SCENEFIT_SHARDS_DIR") or index_dir / "shards")
