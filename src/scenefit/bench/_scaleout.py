"""Scale-out runners and stores beside the local ones on the same data: ingestion through Ray (a local
cluster on this machine's CPUs) against the local runner, and search in Milvus Lite against
FAISS exact search."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from ..embed import EncoderConfig, Runtime
from ..engine import Engine
from ..pipelines import IngestConfig
from ._ingest import _catalog, _photos
from ._timing import stats


def bench_ray_ingest(work: Path, n: int, repeats: int, log=print) -> dict:
    """Products/s with local photos, local runner vs Ray, the same catalog and a fresh index
    and cache each run. Ray's cluster start is excluded (it is started once, first); the
    encoder actors' model loads are included, since every Ray ingest pays them."""
    from ..pipelines import connect

    started = connect(None)
    try:
        return _ray_vs_local(work, n, repeats, log)
    finally:
        if started:
            import ray

            ray.shutdown()


def _ray_vs_local(work: Path, n: int, repeats: int, log) -> dict:
    catalog = _catalog(work / "scaleout.csv", n, _photos(work, n))
    out: dict = {"products": n, "repeats": repeats}
    for runner in ("local", "ray"):
        rates, walls = [], []
        for r in range(repeats):
            index = work / f"scaleout-{runner}-{r}"
            shutil.rmtree(index, ignore_errors=True)
            eng = Engine(index, encoder=EncoderConfig(backend="offline", runtime=Runtime.ONNX), log=lambda m: None,
                         ingest=IngestConfig(runner=runner))
            t0 = time.perf_counter()
            report = eng.ingest(catalog)
            walls.append(time.perf_counter() - t0)
            rates.append(n / sum(report.timings_s.values()))
            shutil.rmtree(index, ignore_errors=True)
        out[runner] = {"products_per_s_median": round(float(np.median(rates)), 1),
                       "wall_s_median": round(float(np.median(walls)), 2)}
        log(f"  ingest ({runner}): {np.median(rates):.0f} products/s (n={n}, {repeats} runs)")
    out["ray_vs_local"] = round(out["ray"]["products_per_s_median"] / out["local"]["products_per_s_median"], 2)
    return out


def bench_milvus_search(work: Path, vectors: np.ndarray, queries: np.ndarray, log=print) -> dict:
    """Single-query latency and recall@10 of Milvus Lite (FLAT, inner product) against FAISS
    exact search over the same vectors."""
    import faiss

    from ..index import MilvusCollection, MilvusTarget

    n, dim = vectors.shape
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    _, truth = flat.search(queries, 10)
    path = work / "milvus-bench.db"
    target = MilvusTarget.parse(str(path))
    space = MilvusCollection.open(target, "bench", dim=dim, model_id="bench", create=True)
    t0 = time.perf_counter()
    empty = [{"category": "", "attrs": {}, "price": 0.0, "has_price": False}] * n
    space.upsert(np.arange(n), vectors, empty)
    load_s = time.perf_counter() - t0
    # Why an index save flushes: Milvus Lite searches rows not yet sealed one by one.
    unflushed = []
    for q in queries[:5]:
        t1 = time.perf_counter()
        space.search(q, 10)
        unflushed.append(time.perf_counter() - t1)
    space.flush()  # as an index save does
    out: dict = {"products": n, "queries": len(queries), "milvus_load_s": round(load_s, 1),
                 "milvus_lite_unflushed": stats(unflushed).as_dict()}
    for name, search in (("faiss_flat", lambda q: flat.search(q.reshape(1, -1), 10)[1][0]),
                         ("milvus_lite_flat", lambda q: space.search(q, 10)[1][0])):
        for q in queries[:5]:
            search(q)  # warm-up
        times, hits = [], 0
        for q, t in zip(queries, truth):
            t1 = time.perf_counter()
            got = search(q)
            times.append(time.perf_counter() - t1)
            hits += len(set(got.tolist()) & set(t.tolist()))
        out[name] = {**stats(times).as_dict(), "recall_at_10": round(hits / (10 * len(queries)), 4)}
        log(f"  search {name} @ {n:,}: {out[name]['median_ms']:.2f} ms (p95 {out[name]['p95_ms']:.2f}), "
            f"recall@10 {out[name]['recall_at_10']:.3f}")
    space.drop()
    out["milvus_vs_faiss"] = round(out["milvus_lite_flat"]["median_ms"] / out["faiss_flat"]["median_ms"], 1)
    return out
