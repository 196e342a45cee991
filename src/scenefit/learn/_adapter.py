"""A linear adapter between scene regions and product photos, learned from labelled scenes.

Product photos are studio shots on white; the same product in a room photo is small, lit
differently and partly hidden. Pooled ImageNet features of the two differ in ways that a
linear map learns from a few hundred labelled (room, product) pairs: ``x ↦ x + x·A``,
applied to both sides before the cosine. The objective is the retrieval one: in each labelled
scene, a relevant product's best region must outscore the other products (softmax over the
matrix of product vectors the caller gives: ``fit_adapter`` gives the products
relevant to some labelled scene, so that no product is only ever a negative).

It is meant to carry over to products the fit never saw; ``benchmarks/appearance_adapter.py``
checks that by leaving the test rooms' products out of training too (docs/quality.md). Saved in the index folder by ``scenefit fit``; the ranker retrieves
appearance candidates through it (``retrieval_queries``) and scores them through it, pooling
each product's cosines over the regions softly (``pool``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..embed import l2_normalize
from ..rank import pool_regions
from ._files import load_fitted, save_fitted

FILE = "appearance-adapter.npz"
#: the adapter ``scenefit adapt`` fits without labels; a labelled fit starts from it and,
#: once saved, is used instead of it (it is kept, so that every refit starts from it again)
LABEL_FREE_FILE = "label-free-adapter.npz"
FORMAT_VERSION = 1


@dataclass
class AdapterSample:
    """One labelled scene: its regions (what products are matched against) and the rows of
    the catalog matrix that are relevant to it."""

    looks: np.ndarray  # float32 (regions, d), L2-normalised
    relevant: np.ndarray  # int rows into the catalog matrix given to ``fit``


@dataclass
class AdapterFitConfig:
    #: Adam steps of 16 scenes each; more overfits the scenes (measured with products held out)
    steps: int = 100
    learning_rate: float = 3e-4
    batch: int = 16
    #: softmax temperature over cosines (they spread over ~0.2 between a match and the rest)
    temperature: float = 0.03
    seed: int = 0
    #: how the fitted adapter's scores pool a product's cosines over the scene regions: a
    #: soft maximum at this temperature (0: the best region only). Several windows on the same
    #: object then add up; through the raw vectors it does not help (docs/quality.md)
    pooling: float = 0.02


@dataclass
class AppearanceAdapter:
    """A :class:`scenefit.rank.RegionAdapter`: the ranker retrieves and scores through it."""

    matrix: np.ndarray  # float32 (d, d): x ↦ normalise(x + x @ matrix)
    n_scenes: int = 0
    steps: int = 0
    model_id: str = ""  # encoder whose appearance vectors it was fitted on
    regions: str = ""  # the scene regions it was fitted on (SceneConfig.regions: crops or dense)
    pooling: float = 0.0  # soft-max temperature over regions when scoring (AdapterFitConfig.pooling)
    #: what it was fitted on: "labels" (labelled scenes), "composites" (``scenefit adapt``) or
    #: "composites+labels" (a labelled fit that started from a label-free adapter)
    source: str = "labels"
    #: how it was fitted, for reports (composites, backgrounds, seconds, …)
    details: dict = field(default_factory=dict)
    #: (source array, its projection): the reference sample, projected once per index generation
    _projected: tuple = field(default=(None, None), init=False, repr=False, compare=False)

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        return l2_normalize(x + x @ self.matrix)

    def retrieval_queries(self, projected: np.ndarray) -> np.ndarray:
        """Queries that find, among the *raw* product vectors, the products closest to the
        regions through the adapter, so no projected copy of the catalog is kept.
        ``projected``: the regions after ``apply`` (the ranker scores with them too).

        With ``T = I + A`` and ``q`` a projected region, ``(q·Tᵀ)·p = q·(p·T)``: the adapted
        cosine times the product's norm ``|p·T|``, which varies little, so the exact score is
        computed afterwards on the retrieved pool only."""
        return l2_normalize(projected + projected @ self.matrix.T)

    def pool(self, cosines: np.ndarray) -> np.ndarray:
        """A product's score from its cosines to every region (rows: regions)."""
        return pool_regions(cosines, self.pooling)

    def apply_cached(self, x: np.ndarray) -> np.ndarray:
        """``apply`` for an array that is reused across queries (the catalog's reference
        sample): projected once while the same array object comes back."""
        source, projected = self._projected
        if source is not x:
            projected = self.apply(x)
            self._projected = (x, projected)
        return projected

    @classmethod
    def fit(cls, samples: Sequence[AdapterSample], catalog: np.ndarray,
            config: AdapterFitConfig | None = None, start: "AppearanceAdapter | None" = None) -> "AppearanceAdapter":
        """Fit on labelled scenes. ``catalog`` holds the appearance vectors of every relevant
        product and of the negatives (``relevant`` rows index it). ``start``: an adapter to
        start from (the label-free one) instead of the identity map."""
        import torch

        config = config or AdapterFitConfig()
        samples = [s for s in samples if len(s.relevant) and len(s.looks)]
        d = catalog.shape[1]
        initial = np.zeros((d, d), np.float32) if start is None else np.array(start.matrix, np.float32)
        if not samples:
            return cls(initial)
        rng = np.random.default_rng(config.seed)
        weight = torch.from_numpy(initial).requires_grad_(True)
        opt = torch.optim.Adam([weight], lr=config.learning_rate)
        products = torch.from_numpy(np.ascontiguousarray(catalog, np.float32))
        looks = [torch.from_numpy(np.ascontiguousarray(s.looks, np.float32)) for s in samples]
        relevant = [torch.from_numpy(np.asarray(s.relevant, np.int64)) for s in samples]
        masks = []
        for rows in relevant:
            m = torch.zeros(len(catalog), dtype=torch.bool)
            m[rows] = True
            masks.append(m)

        def project(x):
            return torch.nn.functional.normalize(x + x @ weight, dim=-1)

        batch = min(config.batch, len(samples))
        for _ in range(config.steps):
            projected = project(products)
            loss = torch.zeros(())
            count = 0
            for i in rng.choice(len(samples), batch, replace=False):
                # here a product's score is its best region's cosine; scoring pools softly
                # (``pooling``), which measured no better inside the objective
                scores = (project(looks[i]) @ projected.T).max(dim=0).values / config.temperature
                others = scores.masked_fill(masks[i], float("-inf"))
                # each relevant product against the catalog's irrelevant ones
                positive = scores[relevant[i]]
                both = torch.cat([positive[:, None], others[None, :].expand(len(positive), -1)], dim=1)
                loss = loss - (positive - torch.logsumexp(both, dim=1)).sum()
                count += len(positive)
            opt.zero_grad()
            (loss / max(count, 1)).backward()
            opt.step()
        return cls(weight.detach().numpy().astype(np.float32), n_scenes=len(samples), steps=config.steps,
                   pooling=config.pooling)

    def save(self, folder: Path) -> Path:
        meta = {"n_scenes": self.n_scenes, "steps": self.steps, "model_id": self.model_id, "regions": self.regions,
                "pooling": self.pooling, "source": self.source, "details": self.details}
        return save_fitted(folder, self.file, FORMAT_VERSION, {"matrix": self.matrix}, meta)

    @property
    def file(self) -> str:
        """The file it is saved in: a label-free adapter beside a labelled one, never over it."""
        return LABEL_FREE_FILE if self.source == "composites" else FILE

    @classmethod
    def load(cls, folder: Path, file: str = FILE) -> "AppearanceAdapter | None":
        # files written before pooling existed scored the best region only; before sources,
        # every adapter was fitted on labels
        return load_fitted(folder, file, FORMAT_VERSION, lambda data, meta: cls(
            data["matrix"].astype(np.float32), meta.get("n_scenes", 0), meta.get("steps", 0),
            meta.get("model_id", ""), meta.get("regions", ""), meta.get("pooling", 0.0),
            meta.get("source", "labels"), meta.get("details", {})))

    @classmethod
    def load_label_free(cls, folder: Path) -> "AppearanceAdapter | None":
        return cls.load(folder, LABEL_FREE_FILE)

