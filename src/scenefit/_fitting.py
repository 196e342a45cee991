"""Learning from labelled scenes: what ``scenefit fit`` saves and ``scenefit eval --cv`` checks.

Both start from the same material: every labelled scene analysed once (zero-shot rooms), its
candidate pool with factor values, and its appearance features for the room model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ._errors import ConfigError
from ._progress import NullProgress, Progress
from ._types import SceneAnalysis
from .evaluate import LabelledScene, MethodOutput
from .images import open_image
from .index import VectorIndex
from .rank import (AdapterFitConfig, AdapterSample, AppearanceAdapter, FitSample, FittedRanking, Pool,
                   RankConfig, Ranker, fit_ranking)
from .scene import RoomModel, SceneAnalyzer, room_features


@dataclass
class LabelledAnalysis:
    scene: LabelledScene
    analysis: SceneAnalysis
    sample: FitSample | None  # None when no relevant product is indexed
    features: np.ndarray | None  # room-model features; None without an appearance space
    relevant_keys: np.ndarray  # index keys of the relevant products that are indexed


@dataclass
class FitResult:
    ranking: FittedRanking
    room_model: RoomModel | None  # None without an appearance space or room labels
    adapter: AppearanceAdapter | None  # None without an appearance space, or when not asked for


def analyse_labelled(scenes: list[LabelledScene], index: VectorIndex, analyzer: SceneAnalyzer,
                     ranker: Ranker, k: int, progress: Progress) -> list[LabelledAnalysis]:
    out = []
    with progress.task("Analysing labelled scenes", len(scenes)) as advance:
        for sc in scenes:
            analysis = analyzer.analyze(open_image(sc.path))
            relevant = np.array(sorted({index.get(pid).key for pid in sc.relevant if index.get(pid) is not None}),
                                np.int64)
            sample = _fit_sample(analysis, relevant, ranker, index, k, analyzer.style_distribution)
            features = room_features(analysis.regions) if analysis.regions is not None else None
            out.append(LabelledAnalysis(sc, analysis, sample, features, relevant))
            advance(1)
    return out


StyleOf = Callable[[np.ndarray, Sequence[str]], np.ndarray]  # SceneAnalyzer.style_distribution


def _fit_sample(analysis: SceneAnalysis, relevant: np.ndarray, ranker: Ranker, index: VectorIndex, k: int,
                style_of: StyleOf) -> FitSample | None:
    """The scene's candidate pool as ``ranker`` retrieves it, with which entries are relevant."""
    if not len(relevant):
        return None
    pool = ranker.pool(analysis, index, k, style_of=style_of)
    if pool is None:
        return None
    return FitSample(pool, np.isin([r.key for r in pool.records], relevant), len(relevant))


def fit_adapter(items: list[LabelledAnalysis], index: VectorIndex,
                config: AdapterFitConfig | None = None) -> AppearanceAdapter | None:
    """The appearance adapter, fitted on the scenes' regions against their relevant products'
    photos. None without an appearance space.

    The negatives are the products relevant to *some* labelled scene, not the whole catalog:
    each of them is a positive somewhere else, so the fit cannot learn that a product is
    never relevant (memorising the catalog instead of how products look in rooms). Measured
    with the test rooms' products held out, this carries over better (docs/quality.md)."""
    store = index.appearance
    usable = [i for i in items if i.analysis.looks is not None]
    if store is None or not len(store) or not usable:
        return None
    relevant = [np.intersect1d(i.relevant_keys, store.key_array()) for i in usable]
    keys = np.unique(np.concatenate(relevant)).astype(np.int64)
    samples = [AdapterSample(i.analysis.looks, np.searchsorted(keys, r)) for i, r in zip(usable, relevant) if len(r)]
    if not samples:
        return None
    return AppearanceAdapter.fit(samples, store.vectors(keys), config)


def fit_models(items: list[LabelledAnalysis], ranker: Ranker, index: VectorIndex, *, k: int, labels: str,
               style_of: StyleOf, folds: int = 5, adapt: bool = True) -> FitResult:
    """The appearance adapter (when ``adapt``), then the fusion weights (+ MMR diversity) on
    candidate pools retrieved and scored through it, and, where possible, a room-type model.
    ``style_of`` is the analyser's ``style_distribution``."""
    adapter = fit_adapter(items, index) if adapt else None
    samples = [i.sample for i in items if i.sample is not None]
    if adapter is not None:
        ranker = Ranker(ranker.config, adapter)
        samples = [s for i in items if i.sample is not None
                   if (s := _fit_sample(i.analysis, i.relevant_keys, ranker, index, k, style_of)) is not None]
    fitted = fit_ranking(samples, ranker, k=k, labels=labels, folds=folds)
    with_rooms = [i for i in items if i.features is not None and i.scene.room_type]
    room_model = None
    if len({i.scene.room_type for i in with_rooms}) >= 2:
        room_model = RoomModel.fit(np.stack([i.features for i in with_rooms]),
                                   [i.scene.room_type for i in with_rooms], folds=folds)
    return FitResult(fitted, room_model, adapter)


def _with_rooms(analysis: SceneAnalysis, model: RoomModel | None) -> SceneAnalysis:
    if model is None or analysis.regions is None:
        return analysis
    probs = model.probabilities(room_features(analysis.regions))[0]
    rooms = dict(sorted(zip(model.classes, probs.tolist()), key=lambda kv: -kv[1]))
    return dataclasses.replace(analysis, room_type=rooms)


def crossval_method(items: list[LabelledAnalysis], index: VectorIndex, analyzer: SceneAnalyzer,
                    base: RankConfig, *, k: int, folds: int, seed: int = 0, adapt: bool = True,
                    progress: Progress | None = None):
    """A ranking method for ``run_eval`` in which every scene is ranked by an adapter, weights
    and a room model fitted on the *other* folds only: held-out figures from one eval run."""
    order = np.random.default_rng(seed).permutation(len(items))
    folds = max(2, min(folds, len(items)))
    outputs: dict[int, MethodOutput] = {}
    with (progress or NullProgress()).task("Fitting on the other folds", folds) as advance:
        for f in range(folds):
            test = set(order[f::folds].tolist())
            _rank_fold(items, test, index, analyzer, base, k, adapt, outputs)
            advance(1)

    def method(image, scene: LabelledScene) -> MethodOutput:
        return outputs[id(scene)]  # by identity: the same photo may be labelled twice

    return method


def _rank_fold(items: list[LabelledAnalysis], test: set[int], index: VectorIndex, analyzer: SceneAnalyzer,
               base: RankConfig, k: int, adapt: bool, outputs: dict[int, MethodOutput]) -> None:
    train = [items[i] for i in range(len(items)) if i not in test]
    try:
        result = fit_models(train, Ranker(base), index, k=k, labels="", style_of=analyzer.style_distribution,
                            folds=0, adapt=adapt)
        fitted, room_model = result.ranking, result.room_model
        ranker = Ranker(base.model_copy(update={"weights": fitted.weights, "diversity": fitted.diversity}),
                        result.adapter)
    except ConfigError:  # no training scene with an indexed relevant product: defaults
        ranker, room_model = Ranker(base), None
    for i in sorted(test):
        analysis = _with_rooms(items[i].analysis, room_model)
        pool: Pool | None = ranker.pool(analysis, index, k, style_of=analyzer.style_distribution)
        ranked = []
        if pool is not None:
            ranked = [pool.records[j].id for j in ranker.order(pool, ranker.scores(pool.factors), k)]
        outputs[id(items[i].scene)] = MethodOutput(ranked, next(iter(analysis.room_type)))
