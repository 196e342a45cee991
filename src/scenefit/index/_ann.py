"""Which FAISS index holds the vectors: exact while that is fast, IVF above.

Both kinds keep our own int64 keys and support add, remove and reconstruct, which upserts
and deletes need (HNSW cannot remove, so it is benchmarked but not used). The choice is made
when an index is saved, from its size, and recorded in the manifest with its parameters:

- ``flat``: exact inner product (cosine on unit rows). Used up to ``flat_max`` products.
- ``ivf``: inverted lists over k-means cells (about 4·√n of them). The number of cells
  searched (``nprobe``) is tuned at build time, on vectors of the index itself, to the
  smallest value whose recall@10 against exact search reaches ``target_recall``. The
  quantizer is retrained when the index has grown 4× since it was trained.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

_TUNE_QUERIES = 200
_PROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class AnnConfig(BaseModel):
    """How the vector index is chosen (``scenefit ingest --index-type``)."""

    kind: Literal["auto", "flat", "ivf"] = Field(
        "auto", description="auto: exact (flat) up to flat_max products, IVF above; or force one.")
    flat_max: int = Field(20_000, ge=0, description="auto: largest catalog kept in an exact index.")
    target_recall: float = Field(0.97, gt=0, le=1, description="IVF: recall@10 against exact search "
                                 "that the tuned nprobe must reach on the index's own vectors.")
    nprobe: int | None = Field(None, ge=1, description="IVF: cells searched per query (default: tuned).")
    storage: Literal["fp32", "fp16", "sq8"] = Field(
        "fp16", description="IVF: how product vectors are stored in the lists; fp16 halves the "
        "memory with no measurable loss of recall (see docs/performance.md).")
    appearance_storage: Literal["fp32", "fp16", "sq8"] = Field(
        "sq8", description="IVF: how image-to-image vectors (1,280-d) are stored; sq8 (one byte "
        "per dimension) takes a quarter of the memory, at a small cost in exactness.")


class IndexSpec(BaseModel):
    """What the manifest records about a built vector index."""

    kind: Literal["flat", "ivf"] = "flat"
    storage: Literal["fp32", "fp16", "sq8"] = "fp32"
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0
    tuned_recall: float | None = None


def nlist_for(n: int) -> int:
    """About 4·√n cells, a power of two (FAISS's guideline range is 4–16·√n)."""
    return int(2 ** round(np.log2(max(16, 4 * np.sqrt(n)))))


def wanted_kind(n: int, config: AnnConfig) -> str:
    if config.kind != "auto":
        return config.kind
    return "flat" if n <= config.flat_max else "ivf"


def needs_rebuild(spec: IndexSpec, n: int, config: AnnConfig, storage: str = "fp32") -> bool:
    kind = wanted_kind(n, config)
    if kind != spec.kind:
        return True
    return kind == "ivf" and (n > 4 * spec.trained_on or spec.storage != storage
                              or bool(config.nprobe and config.nprobe != spec.nprobe))


def empty_flat(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def build(kind: str, keys: np.ndarray, vectors: np.ndarray, config: AnnConfig, seed: int = 0,
          storage: str = "fp32"):
    """A new FAISS index of ``kind`` holding ``vectors`` under ``keys``; returns (index, spec).
    ``storage`` fp16 or sq8: IVF lists hold half-precision or 8-bit scalar-quantised vectors."""
    import faiss

    dim = vectors.shape[1]
    if kind == "flat" or len(keys) == 0:
        index = empty_flat(dim)
        if len(keys):
            index.add_with_ids(vectors, keys)
        return index, IndexSpec(kind="flat")
    n = len(keys)
    nlist = min(nlist_for(n), max(1, n // 39))  # k-means wants ≥ 39 points per cell
    quantizer = faiss.IndexFlatIP(dim)
    if storage in ("sq8", "fp16"):
        qtype = faiss.ScalarQuantizer.QT_8bit if storage == "sq8" else faiss.ScalarQuantizer.QT_fp16
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, qtype, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    rng = np.random.default_rng(seed)
    sample = vectors if n <= 256 * nlist else vectors[rng.choice(n, size=256 * nlist, replace=False)]
    index.train(np.ascontiguousarray(sample))
    # A hashtable from our (sparse) keys to list positions: reconstruct() and remove_ids().
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, keys)
    spec = IndexSpec(kind="ivf", storage=storage, nlist=nlist, trained_on=n)
    if config.nprobe:
        spec.nprobe = min(config.nprobe, nlist)
    else:
        spec.nprobe, spec.tuned_recall = tune_nprobe(index, keys, vectors, config.target_recall, rng)
    index.nprobe = spec.nprobe
    return index, spec


def tune_nprobe(index, keys: np.ndarray, vectors: np.ndarray, target: float, rng, k: int = 10
                ) -> tuple[int, float]:
    """Smallest nprobe whose recall@k against exact search reaches ``target``, measured with
    perturbed copies of the index's own vectors as queries (real queries are near products,
    not on them)."""
    import faiss

    n, dim = vectors.shape
    rows = rng.choice(n, size=min(_TUNE_QUERIES, n), replace=False)
    noise = rng.standard_normal((len(rows), dim)).astype(np.float32) * vectors.std(axis=0)
    queries = vectors[rows] + 0.5 * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(dim)
    exact.add(vectors)
    _, rows_found = exact.search(queries, k)
    truth = keys[rows_found]  # exact search ran on positions: map them to keys
    previous = -1.0
    for nprobe in (p for p in _PROBES if p <= index.nlist):
        index.nprobe = nprobe
        _, found = index.search(queries, k)
        recall = float(np.mean([len(set(f[f >= 0]) & set(t)) / k for f, t in zip(found, truth)]))
        if recall >= target:
            return nprobe, round(recall, 4)
        if recall - previous < 0.002 and nprobe > 1:
            # A plateau: quantised storage caps recall below the target; more cells only cost time.
            return nprobe // 2, round(previous, 4)
        previous = recall
    return index.nlist, round(previous, 4)


def keys_of(index) -> np.ndarray:
    """Every key stored in a flat (IndexIDMap2) or IVF index."""
    import faiss

    if hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    inv = index.invlists
    parts = [faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).copy()
             for i in range(index.nlist) if inv.list_size(i)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def rebuilt(index, spec: IndexSpec, keys: np.ndarray, config: AnnConfig, storage: str = "fp32"):
    """``(index, spec)`` as they should be for ``len(keys)`` vectors: unchanged, or rebuilt
    (another kind or storage, or an IVF that has outgrown its training)."""
    if not needs_rebuild(spec, len(keys), config, storage):
        return index, spec
    keys = np.sort(np.asarray(keys, np.int64))
    vectors = index.reconstruct_batch(keys).astype(np.float32) if len(keys) else np.zeros((0, index.d), np.float32)
    return build(wanted_kind(len(keys), config), keys, vectors, config, storage=storage)


def remove(index, keys) -> None:
    """Remove ``keys`` from a flat or IVF index."""
    import faiss

    keys = np.ascontiguousarray(keys, dtype=np.int64)
    if not len(keys):
        return
    if hasattr(index, "id_map"):
        index.remove_ids(faiss.IDSelectorBatch(keys))
    else:  # IVF's hashtable direct map only accepts an explicit array of ids
        index.remove_ids(faiss.IDSelectorArray(len(keys), faiss.swig_ptr(keys)))


def apply_search_params(index, spec: IndexSpec) -> None:
    if spec.kind == "ivf":
        index.nprobe = spec.nprobe


#: With a filter that leaves at most this many products, score them all exactly instead of
#: searching IVF cells (which may hold none of them).
EXACT_SUBSET_MAX = 20_000


def search(index, spec: IndexSpec, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(scores, keys) of the top ``k`` per query row; ``allowed`` restricts to those keys.
    Missing results are key -1, as in FAISS."""
    import faiss

    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if allowed is None:
        return index.search(queries, k)
    allowed = np.asarray(allowed, dtype=np.int64)
    if spec.kind == "ivf" and len(allowed) <= EXACT_SUBSET_MAX:
        vecs = index.reconstruct_batch(allowed)
        sims = queries @ vecs.T
        top = np.argsort(-sims, axis=1)[:, :k]
        scores = np.take_along_axis(sims, top, axis=1)
        keys = allowed[top]
        if top.shape[1] < k:  # fewer allowed than k: pad like FAISS
            pad = k - top.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            keys = np.pad(keys, ((0, 0), (0, pad)), constant_values=-1)
        return scores.astype(np.float32), keys
    selector = faiss.IDSelectorBatch(allowed)
    if spec.kind == "ivf":
        # A filter keeps a share of each cell: search more cells to find k of them.
        share = max(len(allowed) / max(index.ntotal, 1), 1e-9)
        params = faiss.SearchParametersIVF(sel=selector, nprobe=int(min(index.nlist, np.ceil(spec.nprobe / share))))
    else:
        params = faiss.SearchParameters(sel=selector)
    return index.search(queries, k, params=params)
