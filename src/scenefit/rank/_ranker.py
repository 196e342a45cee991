"""Re-ranking retrieved candidates by fit, keeping the list diverse, and explaining picks."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from pydantic import BaseModel, Field

from ..taxonomy import harmony
from .._types import SceneAnalysis
from ..catalog import colour_hex
from ..index import Filters, ProductRecord, VectorIndex
from ._explain import explain
from ._factors import COSINE, Factor
from ._priors import room_affinity
from ._regions import RegionAdapter, pool_regions


class RankWeights(BaseModel):
    """Weights of the fit factors in the final score (they are normalised to sum to 1). One
    field per :class:`Factor`, named by its value.

    The defaults are what holds without labelled scenes: a catalog with photos is ranked by
    appearance (product photo against the scene's regions), the signal that carries over from
    one catalog and room set to another; where the appearance factor is missing (no product
    photos, or an encoder without an appearance space) :data:`TEXT_WEIGHTS` apply instead.
    ``scenefit fit`` learns other weights from labelled scenes."""

    similarity: float = Field(
        0.0, ge=0, description="Scene–product cosine, as its percentile among the catalog's products."
    )
    room: float = Field(0.0, ge=0, description="How well the product's category suits the room type.")
    colour: float = Field(0.0, ge=0, description="Colour harmony with the scene's dominant colours.")
    style: float = Field(0.0, ge=0, description="Agreement of product and scene style distributions.")
    appearance: float = Field(
        1.0, ge=0,
        description="Product photo vs best-matching region of the scene photo (image to image), as "
        "a catalog percentile; used when the encoder has an appearance space.",
    )


#: The weights where the appearance factor is missing (a catalog without photos): the scene's
#: similarity to the product text alone; the room, colour and style factors, added to it,
#: lowered recall on the benchmark (docs/quality.md). Also what weights that give no present
#: factor any weight fall back to (e.g. weights fitted all on appearance, used on an index
#: without photos).
TEXT_WEIGHTS = RankWeights(similarity=1.0, room=0.0, colour=0.0, style=0.0, appearance=0.0)


class RankConfig(BaseModel):
    """How candidates are retrieved and re-ranked."""

    candidates: int = Field(200, ge=1, description="Nearest neighbours retrieved before re-ranking.")
    weights: RankWeights = Field(default_factory=RankWeights)
    # 0 by default: the products of one room look alike (one style, one palette), so pushing
    # picks apart by their vectors pushes the room's own products out; `scenefit fit` can learn more
    diversity: float = Field(
        0.0, ge=0, le=1, description="MMR trade-off: 0 = pure score, 1 = pure novelty."
    )
    max_per_category: int = Field(3, ge=1, description="At most this many picks of one category.")
    duplicate_cosine: float = Field(
        0.98, gt=0, le=1, description="A candidate this close to an earlier pick is a duplicate and skipped."
    )


@dataclass
class Pool:
    """Retrieved candidates of one scene with their factor values (0..1 each)."""

    records: list[ProductRecord]
    vecs: np.ndarray
    sims: np.ndarray  # raw cosine to the scene query
    factors: dict[str, np.ndarray]


@dataclass
class Recommendation:
    record: ProductRecord
    score: float
    factors: dict[str, float]
    reason: str


class Ranker:
    def __init__(self, config: RankConfig | None = None, adapter: RegionAdapter | None = None):
        self.config = config or RankConfig()
        #: fitted on labelled scenes (``scenefit fit``): appearance candidates are retrieved and
        #: scored through it
        self.adapter = adapter

    def rank(
        self,
        scene: SceneAnalysis,
        index: VectorIndex,
        k: int,
        *,
        style_of: Callable[[np.ndarray, Sequence[str]], np.ndarray],
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Recommendation]:
        """Top-``k`` picks for the scene.

        ``style_of(vectors, names)`` gives style probabilities of product vectors, one column
        per style in ``names`` order (the scene analyser's ``style_distribution``).
        ``timings`` receives the seconds spent in filtering, in the index searches, in projecting
        the regions through the adapter (``adapter``, when there is one) and in scoring the
        candidates' photos against the regions (``appearance``).
        """
        pool = self.pool(scene, index, k, style_of=style_of, filters=filters, timings=timings)
        if pool is None:
            return []
        scores = self.scores(pool.factors)
        order = self.order(pool, scores, k)
        out = []
        for i in order:
            f = {name: round(float(values[i]), 4) for name, values in pool.factors.items()}
            f[COSINE] = round(float(pool.sims[i]), 4)
            out.append(Recommendation(pool.records[i], round(float(scores[i]), 4), f,
                                      explain(pool.records[i], f, scene)))
        return out

    def pool(self, scene, index, k, *, style_of, filters=None, timings=None) -> "Pool | None":
        """Retrieve candidates (by the scene vector, and by regions when there is an
        appearance space) and compute every factor for them."""
        t0 = time.perf_counter()
        scope = index.resolve(filters)  # checked, and made ready for both spaces
        t1 = time.perf_counter()
        n_cand = max(self.config.candidates, 5 * k)
        keys, _ = index.search(scene.vector, n_cand, scope)
        looks = scene.looks
        use_appearance = looks is not None and index.appearance is not None and len(index.appearance) > 0
        adapting = 0.0
        if use_appearance:
            queries = looks
            if self.adapter is not None:
                t2 = time.perf_counter()
                looks = self.adapter.apply(looks)  # once: retrieval and scoring both use it
                # Through a fitted adapter the right products are often not among the raw
                # nearest ones, so a pool by raw vectors would miss them: search through it.
                queries = self.adapter.retrieval_queries(looks)
                adapting = time.perf_counter() - t2
            # A product can look right without its text matching: retrieve by regions too.
            # Hundreds of dense windows would bring in thousands: keep the best by any window.
            limit = n_cand if scene.windows is not None else None
            keys = np.union1d(keys, index.appearance.nearest(queries, n_cand, scope, limit=limit)).astype(np.int64)
        if timings is not None:
            timings["filter"], timings["search"] = t1 - t0, time.perf_counter() - t1 - adapting
            if self.adapter is not None and use_appearance:
                timings["adapter"] = adapting
        if len(keys) == 0:
            return None
        found = index.records_for(keys)
        if any(r is None for r in found):  # rows of a generation pruned mid-request: skip them
            keys = np.asarray([k for k, r in zip(keys, found) if r is not None], np.int64)
            found = [r for r in found if r is not None]
            if len(keys) == 0:
                return None
        records = found
        vecs = index.vectors(keys)
        sims = vecs @ scene.vector
        factors = self._factors(scene, index, records, sims, vecs, style_of)
        if use_appearance:
            t3 = time.perf_counter()
            factors[Factor.APPEARANCE] = _appearance_fit(looks, index, keys, self.adapter)
            if timings is not None:
                timings["appearance"] = time.perf_counter() - t3
        return Pool(records, vecs, sims, factors)

    def scores(self, factors: dict[str, np.ndarray], weights: RankWeights | None = None) -> np.ndarray:
        """Weighted sum of the factors; weights of factors not present are left out and the
        rest renormalised."""
        w = {n: wt for n, wt in (weights or self.config.weights).model_dump().items() if n in factors}
        if sum(w.values()) <= 0:  # e.g. the default weights on a catalog without photos
            w = {n: wt for n, wt in TEXT_WEIGHTS.model_dump().items() if n in factors}
        total_w = sum(w.values()) or 1.0
        return sum(factors[name] * (wt / total_w) for name, wt in w.items())

    def order(self, pool: "Pool", scores: np.ndarray, k: int, diversity: float | None = None) -> list[int]:
        """MMR picks a diverse set; within it, the best fit comes first.

        Equal scores are common (a percentile factor saturates at the top of the catalog): they
        go to the higher raw cosine, then the lower id, never to the order in which a backend
        happened to return the candidates."""
        ids = np.array([r.id for r in pool.records], dtype=object)
        first = np.lexsort((ids, -pool.sims, -scores))  # the tie-broken order MMR scans
        chosen = self._diversify(scores[first], pool.vecs[first], [pool.records[i] for i in first], k, diversity)
        return sorted((int(first[i]) for i in chosen), key=lambda i: (-scores[i], -pool.sims[i], pool.records[i].id))

    def _factors(self, scene, index, records, sims, vecs, style_of) -> dict[str, np.ndarray]:
        # Raw cosine ranges differ between encoders (CLIP image-text ~0.2–0.35, MiniLM
        # 0.1–0.6). The similarity factor is therefore the cosine's percentile among a fixed
        # sample of the whole catalog: comparable across encoders, and the same product gets
        # the same value whether or not filters shrink the candidate pool.
        reference = np.sort(index.reference_vectors() @ scene.vector)
        similarity = np.searchsorted(reference, sims, side="right") / max(len(reference), 1)

        rooms = scene.room_type
        room_memo: dict[str | None, float] = {}  # one computation per category, not per product
        room = np.array([room_memo[r.category] if r.category in room_memo
                         else room_memo.setdefault(r.category, _room_fit(r.category, rooms)) for r in records])

        scene_cols = [(c.hex, c.share) for c in scene.colours]
        memo: dict[tuple[str, ...], float] = {}  # catalogs repeat colour sets: score each once
        colour = np.array([memo[key] if (key := tuple(r.colours)) in memo
                           else memo.setdefault(key, _colour_fit(r.colours, scene_cols)) for r in records])

        names = list(scene.style)
        scene_style = np.array([scene.style[n] for n in names])
        prod_style = style_of(vecs, names)
        # Bhattacharyya coefficient: 1 when the two style distributions agree exactly.
        style = np.sqrt(prod_style * scene_style[None, :]).sum(axis=1)
        return {Factor.SIMILARITY: similarity, Factor.ROOM: room, Factor.COLOUR: colour, Factor.STYLE: style}

    def _diversify(self, scores: np.ndarray, vecs: np.ndarray, records, k: int,
                   diversity: float | None = None) -> list[int]:
        """Greedy MMR with a per-category cap and duplicate skipping.

        Candidates held back by the cap or as duplicates are not lost: once nothing else is
        left, they fill the remaining slots (the cap only bites while another category can
        still fill the slot)."""
        lam = self.config.diversity if diversity is None else diversity
        cap = self.config.max_per_category
        chosen: list[int] = []
        per_cat: dict[str, int] = {}
        max_sim = np.zeros(len(scores))
        available = np.ones(len(scores), dtype=bool)
        held_back = np.zeros(len(scores), dtype=bool)
        strict = True
        while len(chosen) < k:
            if not available.any():
                if not (strict and held_back.any()):
                    break
                available, held_back, strict = held_back, np.zeros_like(held_back), False
            mmr = (1 - lam) * scores - lam * max_sim
            mmr[~available] = -np.inf
            i = int(np.argmax(mmr))
            available[i] = False
            cat = records[i].category or f"__{records[i].id}"
            # A duplicate is the same product text/photo again (wholesale catalogs repeat rows).
            duplicate = bool(chosen) and max_sim[i] >= self.config.duplicate_cosine
            if strict and (duplicate or per_cat.get(cat, 0) >= cap):
                held_back[i] = True
                continue
            chosen.append(i)
            per_cat[cat] = per_cat.get(cat, 0) + 1
            max_sim = np.maximum(max_sim, vecs @ vecs[i])
        return chosen


def _appearance_fit(regions: np.ndarray, index: VectorIndex, keys: np.ndarray,
                    adapter: RegionAdapter | None = None) -> np.ndarray:
    """Each product's cosines to the regions, pooled (the best one; softly through an
    adapter), as a percentile among a catalog sample (0.5 without a photo: no evidence either
    way); a product with several photos gets its best photo's. With an adapter, ``regions``
    have been through it already and the products go through it here."""
    ref = index.appearance.reference()
    if adapter is not None:
        project, project_ref, pool = adapter.apply, adapter.apply_cached, adapter.pool
    else:
        project = project_ref = lambda x: x  # noqa: E731
        pool = pool_regions
    ref_best = np.sort(pool(regions @ project_ref(ref).T)) if len(ref) else np.zeros(0)
    out = np.full(len(keys), 0.5)
    photos, owner = index.photos(keys)
    if len(photos) and len(ref_best):
        # A product with several photos scores as its best one: each photo is pooled over the
        # regions alone, then the product keeps its maximum.
        per_photo = pool(regions @ project(index.appearance.vectors(photos)).T)
        best = np.full(len(keys), -np.inf, per_photo.dtype)
        np.maximum.at(best, owner, per_photo)
        have = np.unique(owner)
        out[have] = np.searchsorted(ref_best, best[have], side="right") / len(ref_best)
    return out


def _room_fit(category: str | None, rooms: dict[str, float]) -> float:
    aff = room_affinity(category)
    if aff is None:
        return 0.5
    return float(sum(p * aff.get(room, 0.5) for room, p in rooms.items()))


def _colour_fit(product_colours: list[str], scene_cols: list[tuple[str, float]]) -> float:
    hexes = [h for h in (colour_hex(c) for c in product_colours) if h]
    if not hexes or not scene_cols:
        return 0.5  # nothing known: neither reward nor punish
    total = sum(s for _, s in scene_cols) or 1.0
    per_colour = [sum(s * harmony(h, sh) for sh, s in scene_cols) / total for h in hexes]
    return float(np.mean(per_colour))


__all__ = ["Pool", "RankConfig", "RankWeights", "Ranker", "Recommendation", "TEXT_WEIGHTS"]
