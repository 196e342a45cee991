"""Search alone: single-query latency and recall@10 against exact search, per index type and
catalog size."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._timing import repeat


@dataclass
class Candidate:
    name: str
    build: Callable[[int, int], object]  # (dim, n) → untrained faiss index
    knobs: list[tuple[str, Callable[[object], None]]]  # search-time settings to sweep


def _nlist(n: int) -> int:
    """About 4·√n lists, a power of two (FAISS's guideline range is 4–16·√n)."""
    return int(2 ** round(np.log2(max(16, 4 * np.sqrt(n)))))


def candidates(n: int) -> list[Candidate]:
    import faiss

    ip = faiss.METRIC_INNER_PRODUCT
    nlist = _nlist(n)

    def ivf(qtype=None):
        def build(d, n_):
            quantizer = faiss.IndexFlatIP(d)
            if qtype is None:
                return faiss.IndexIVFFlat(quantizer, d, nlist, ip)
            return faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, qtype, ip)
        return build

    def nprobe(p):
        def set_(index):
            index.nprobe = p
        return (f"nprobe={p}", set_)

    def hnsw(d, n_):
        index = faiss.IndexHNSWFlat(d, 32, ip)
        index.hnsw.efConstruction = 64
        return index

    def ef(e):
        def set_(index):
            index.hnsw.efSearch = e
        return (f"efSearch={e}", set_)

    probes = [p for p in (4, 8, 16, 32, 64) if p <= nlist]
    return [
        Candidate("flat", lambda d, n_: faiss.IndexFlatIP(d), [("exact", lambda i: None)]),
        Candidate("flat-fp16", lambda d, n_: faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, ip),
                  [("exact", lambda i: None)]),
        Candidate("hnsw32", hnsw, [ef(e) for e in (16, 32, 64, 128)]),
        Candidate(f"ivf{nlist}", ivf(), [nprobe(p) for p in probes]),
        Candidate(f"ivf{nlist}-sq8", ivf(faiss.ScalarQuantizer.QT_8bit), [nprobe(p) for p in probes]),
    ]


def _serialized_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).size)


def bench_search(data: np.ndarray, queries: np.ndarray, *, k: int = 10, runs: int | None = None,
                 skip: Callable[[str, int], str | None] = lambda name, n: None, log=print) -> list[dict]:
    """Every candidate index type on ``data``: build time, bytes per vector, and per search
    setting the single-query latency (median, p95) and recall@k against exact search."""
    import faiss

    n, d = data.shape
    exact = faiss.IndexFlatIP(d)
    exact.add(data)
    _, truth = exact.search(queries, k)
    runs = runs or len(queries)
    rows = []
    for cand in candidates(n):
        why = skip(cand.name, n)
        if why:
            rows.append({"n": n, "index": cand.name, "skipped": why})
            log(f"  {cand.name:>16} @ {n:>9,}: skipped ({why})")
            continue
        t0 = time.perf_counter()
        index = cand.build(d, n)
        if not index.is_trained:
            sample = data[np.random.default_rng(0).choice(n, size=min(n, max(50_000, 40 * index.nlist)), replace=False)]
            index.train(sample)
        index.add(data)
        build_s = time.perf_counter() - t0
        size = _serialized_bytes(index)
        for knob, apply in cand.knobs:
            apply(index)
            _, found = index.search(queries, k)
            recall = float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))
            st = repeat(lambda i, ix=index: ix.search(queries[i % len(queries)][None, :], k), runs)
            rows.append({"n": n, "index": cand.name, "setting": knob, "build_s": round(build_s, 2),
                         "bytes_per_vector": round(size / n, 1), "recall_at_10": round(recall, 4),
                         "latency": st.as_dict()})
            log(f"  {cand.name:>16} @ {n:>9,} {knob:>12}: {st.median_ms:7.3f} ms (p95 {st.p95_ms:.3f}), "
                f"recall@{k} {recall:.3f}, build {build_s:.1f}s, {size / n:.0f} B/vec")
        del index
    return rows
