"""Labelled scenes analysed once, the material every fit and cross-validation starts from:
each scene's analysis (zero-shot rooms), its candidate pool with factor values, and its
appearance features for the room model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .._progress import Progress
from .._types import SceneAnalysis
from ..evaluate import LabelledScene
from ..images import open_image
from ..index import VectorIndex
from ..rank import Ranker
from ..scene import SceneAnalyzer, room_features
from ._ranking import FitSample

StyleOf = Callable[[np.ndarray, Sequence[str]], np.ndarray]  # SceneAnalyzer.style_distribution


@dataclass
class LabelledAnalysis:
    scene: LabelledScene
    analysis: SceneAnalysis
    sample: FitSample | None  # None when no relevant product is indexed
    features: np.ndarray | None  # room-model features; None without an appearance space
    relevant_keys: np.ndarray  # index keys of the relevant products that are indexed
    irrelevant_keys: np.ndarray  # index keys of the products judged not to fit (feedback)


def analyze_labelled(scenes: list[LabelledScene], index: VectorIndex, analyzer: SceneAnalyzer,
                     ranker: Ranker, k: int, progress: Progress) -> list[LabelledAnalysis]:
    out = []
    with progress.task("Analysing labelled scenes", len(scenes)) as advance:
        for sc in scenes:
            analysis = analyzer.analyze(open_image(sc.path))
            relevant, irrelevant = _keys(sc.relevant, index), _keys(sc.irrelevant, index)
            sample = fit_sample(analysis, relevant, ranker, index, k, analyzer.style_distribution, irrelevant)
            features = room_features(analysis.regions) if analysis.regions is not None else None
            out.append(LabelledAnalysis(sc, analysis, sample, features, relevant, irrelevant))
            advance(1)
    return out


def _keys(ids, index: VectorIndex) -> np.ndarray:
    return np.array(sorted({r.key for pid in ids if (r := index.get(pid)) is not None}), np.int64)


def fit_sample(analysis: SceneAnalysis, relevant: np.ndarray, ranker: Ranker, index: VectorIndex, k: int,
               style_of: StyleOf, irrelevant: np.ndarray | None = None) -> FitSample | None:
    """The scene's candidate pool as ``ranker`` retrieves it, with which entries are relevant
    (and which were judged not to fit)."""
    if not len(relevant):
        return None
    pool = ranker.pool(analysis, index, k, style_of=style_of)
    if pool is None:
        return None
    keys = [r.key for r in pool.records]
    negatives = np.isin(keys, irrelevant) if irrelevant is not None and len(irrelevant) else None
    return FitSample(pool, np.isin(keys, relevant), len(relevant), negatives)
