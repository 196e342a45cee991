"""Big catalogs from vectors that mimic real ones.

Embedding a million real products is too slow here, and uniform noise makes every ANN index
look broken (no neighbourhoods) or perfect (too easy). So synthetic products are sampled
around real product vectors: each is a real vector plus Gaussian noise shaped by the real
vectors' per-dimension spread, renormalised. The noise scale is calibrated so that a
synthetic catalog the size of the real one has the same median nearest-neighbour cosine as
the real one, i.e. products sit as close to each other as real products do; a bigger
synthetic catalog then grows like a real one with more variants of the same kinds of goods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..index import ProductRecord, VectorIndex


@dataclass
class RealVectors:
    text: np.ndarray  # (n, d) unit rows: product vectors of a real index
    appearance: np.ndarray | None  # (m, da) unit rows, products with a photo
    records: list[ProductRecord]
    source: str
    #: calibrated noise scales (text, appearance)
    tau: dict[str, float] = field(default_factory=dict)
    nn_cosine: dict[str, float] = field(default_factory=dict)


def from_index(path: str | Path) -> RealVectors:
    index = VectorIndex.open(path)
    keys = np.sort(index.keys())
    text = index.vectors(keys)
    appearance = None
    if index.appearance is not None and len(index.appearance):
        look_keys = np.asarray(sorted(index.appearance.keys()), np.int64)
        appearance = index.appearance.vectors(look_keys)
    records = index.records_for(keys)
    return RealVectors(text, appearance, records, f"{path} ({len(keys)} products, model {index.manifest.model_id})")


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def median_nn_cosine(x: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Median cosine of a vector to its nearest other vector (on a sample of rows)."""
    import faiss

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(np.ascontiguousarray(x))
    sims, _ = index.search(np.ascontiguousarray(x[rows]), 2)
    return float(np.median(sims[:, 1]))


def _children(parents: np.ndarray, spread: np.ndarray, tau: float, n: int, rng) -> np.ndarray:
    picks = rng.integers(0, len(parents), size=n)
    noise = rng.standard_normal((n, parents.shape[1]), dtype=np.float32) * (tau * spread)
    return _normalise(parents[picks] + noise)


def calibrate(real: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """The noise scale τ that gives a same-size synthetic set the real median NN cosine."""
    target = median_nn_cosine(real, seed=seed)
    spread = real.std(axis=0).astype(np.float32)
    lo, hi = 0.0, 4.0
    for _ in range(14):  # bisection: NN cosine falls as τ grows
        mid = (lo + hi) / 2
        synth = _children(real, spread, mid, len(real), np.random.default_rng(seed))
        if median_nn_cosine(synth, seed=seed) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2, target


class SyntheticCatalog:
    """Deterministic synthetic vectors (and records) around a real catalog's."""

    def __init__(self, real: RealVectors, seed: int = 0):
        self.real, self.seed = real, seed
        self._spread = {"text": real.text.std(axis=0).astype(np.float32)}
        real.tau["text"], real.nn_cosine["text"] = calibrate(real.text, seed)
        if real.appearance is not None:
            self._spread["appearance"] = real.appearance.std(axis=0).astype(np.float32)
            real.tau["appearance"], real.nn_cosine["appearance"] = calibrate(real.appearance, seed)

    def vectors(self, space: str, n: int, *, stream: int = 0, chunk: int = 100_000) -> np.ndarray:
        parents = self.real.text if space == "text" else self.real.appearance
        rng = np.random.default_rng([self.seed, stream, 0 if space == "text" else 1])
        out = np.empty((n, parents.shape[1]), np.float32)
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            out[start:stop] = _children(parents, self._spread[space], self.real.tau[space], stop - start, rng)
        return out

    def records(self, n: int) -> list[ProductRecord]:
        """``n`` product records copied from the real ones (ids made unique)."""
        base = self.real.records
        out = []
        for i in range(n):
            r = base[i % len(base)]
            out.append(ProductRecord(
                id=f"syn-{i}", sku_id=f"S{i}", description=r.description, image=None, text=r.text,
                category=r.category, colours=list(r.colours), materials=list(r.materials),
                content_hash=f"syn-{i}", image_status="ok" if r.image_status == "ok" else r.image_status,
                attributes=dict(r.attributes)))
        return out
