"""Fitting the fusion weights on labelled scenes, with cross-validation.

The fitted weights are a small versioned file in the index folder (``ranking.json``) that
the engine loads; ``scenefit fit`` refits them on a user's own labels. Only the weights of
the generic factors are learned — nothing about individual products — so they carry over to
rooms the fit never saw, which the cross-validated figure estimates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .._atomic import atomic_write
from .._errors import ConfigError
from ..rank import Pool, Ranker, RankWeights
from ._folds import kfold

FIT_FILE = "ranking.json"
FORMAT_VERSION = 1
#: What a known misfit in the top k costs the weights' objective, against a relevant product
#: found: half as much, so that sparse dismissals steer the weights without outvoting recall.
NEGATIVE_WEIGHT = 0.5


class FittedRanking(BaseModel):
    format_version: int = FORMAT_VERSION
    weights: RankWeights
    diversity: float
    k: int
    n_scenes: int = Field(description="Labelled scenes with at least one indexed relevant product")
    cv_folds: int = Field(description="0: fitted without cross-validation")
    cv_recall: float | None = Field(description="Mean Recall@k on held-out folds: the honest estimate")
    train_recall: float = Field(description="Recall@k of the final weights on all scenes (optimistic)")
    default_recall: float = Field(description="Recall@k of the default weights on the same scenes")
    labels: str
    fitted_at: str
    model_id: str = Field("", description="Encoder the weights were fitted with; ignored under another")

    def save(self, folder: Path) -> Path:
        return atomic_write(Path(folder) / FIT_FILE, self.model_dump_json(indent=2))

    @classmethod
    def load(cls, folder: Path) -> "FittedRanking | None":
        path = Path(folder) / FIT_FILE
        if not path.is_file():
            return None
        fitted = cls.model_validate_json(path.read_text("utf-8"))
        return fitted if fitted.format_version == FORMAT_VERSION else None


@dataclass
class FitSample:
    pool: Pool
    relevant: np.ndarray  # bool per pool entry
    n_relevant: int  # relevant products in the index (some may be outside the pool)
    irrelevant: np.ndarray | None = None  # bool per pool entry: judged not to fit (feedback)


def _grid(names: list[str], step: float) -> list[RankWeights]:
    n = round(1 / step)
    out = []
    for combo in itertools.product(range(n + 1), repeat=len(names)):
        if sum(combo) == n:
            w = {name: 0.0 for name in RankWeights.model_fields}
            w.update({name: c * step for name, c in zip(names, combo)})
            out.append(RankWeights(**w))
    return out


def _recall(ranker: Ranker, samples: list[FitSample], weights: RankWeights, diversity: float, k: int,
            negatives: bool = False) -> float:
    """Mean Recall@k; with ``negatives``, the objective the weights are chosen by: each scene's
    recall less NEGATIVE_WEIGHT × the share of its known misfits that reach its top k."""
    total = 0.0
    for s in samples:
        order = ranker.order(s.pool, ranker.scores(s.pool.factors, weights), k, diversity)
        total += s.relevant[order].sum() / s.n_relevant
        if negatives and s.irrelevant is not None and s.irrelevant.any():
            total -= NEGATIVE_WEIGHT * s.irrelevant[order].sum() / s.irrelevant.sum()
    return total / max(len(samples), 1)


def fit_ranking(
    samples: list[FitSample], ranker: Ranker, *, k: int, labels: str, step: float = 0.25,
    diversities: tuple[float, ...] = (0.0, 0.3), folds: int = 5, seed: int = 0,
) -> FittedRanking:
    samples = [s for s in samples if s.n_relevant]
    if not samples:
        raise ConfigError("nothing to fit on: no labelled scene has a relevant product in the index")
    names = sorted(set().union(*(s.pool.factors for s in samples))) if samples else []
    candidates = [(w, d) for w in _grid(names, step) for d in diversities]

    def best(subset: list[FitSample]):
        return max(candidates, key=lambda c: _recall(ranker, subset, c[0], c[1], k, negatives=True))

    splits = kfold(len(samples), folds, seed) if folds else []  # 0: no CV (the caller does it)
    held_out = 0.0
    for fold in splits:
        test = [samples[i] for i in fold.test]
        w, d = best([samples[i] for i in fold.train_in_split_order()])
        held_out += _recall(ranker, test, w, d, k) * len(test)
    folds = len(splits)
    weights, diversity = best(samples)
    return FittedRanking(
        weights=weights, diversity=diversity, k=k, n_scenes=len(samples), cv_folds=folds,
        cv_recall=round(held_out / max(len(samples), 1), 4) if folds else None,
        train_recall=round(_recall(ranker, samples, weights, diversity, k), 4),
        default_recall=round(_recall(ranker, samples, RankWeights(), ranker.config.diversity, k), 4),
        labels=labels, fitted_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )
