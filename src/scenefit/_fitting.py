"""Learning from labelled scenes: what ``scenefit fit`` saves and ``scenefit eval --cv`` checks.

Both start from the same material: every labelled scene analysed once (zero-shot rooms), its
candidate pool with factor values, and its appearance features for the room model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._errors import ConfigError
from ._progress import Progress
from ._types import SceneAnalysis
from .evaluate import LabelledScene, MethodOutput
from .images import open_image
from .index import VectorIndex
from .rank import FitSample, FittedRanking, Pool, RankConfig, Ranker, fit_ranking
from .scene import RoomModel, SceneAnalyzer, room_features


@dataclass
class LabelledAnalysis:
    scene: LabelledScene
    analysis: SceneAnalysis
    sample: FitSample | None  # None when no relevant product is indexed
    features: np.ndarray | None  # room-model features; None without an appearance space


def analyse_labelled(scenes: list[LabelledScene], index: VectorIndex, analyzer: SceneAnalyzer,
                     ranker: Ranker, k: int, progress: Progress) -> list[LabelledAnalysis]:
    out = []
    with progress.task("Analysing labelled scenes", len(scenes)) as advance:
        for sc in scenes:
            analysis = analyzer.analyze(open_image(sc.path))
            relevant = {index.get(pid).key for pid in sc.relevant if index.get(pid) is not None}
            pool = ranker.pool(analysis, index, k, style_of=analyzer.style_distribution)
            sample = None
            if pool is not None and relevant:
                sample = FitSample(pool, np.array([r.key in relevant for r in pool.records]), len(relevant))
            features = room_features(analysis.regions) if analysis.regions is not None else None
            out.append(LabelledAnalysis(sc, analysis, sample, features))
            advance(1)
    return out


def fit_models(items: list[LabelledAnalysis], ranker: Ranker, *, k: int, labels: str,
               folds: int = 5) -> tuple[FittedRanking, RoomModel | None]:
    """Fusion weights (+ MMR diversity) and, where possible, a room-type model."""
    fitted = fit_ranking([i.sample for i in items if i.sample is not None], ranker,
                         k=k, labels=labels, folds=folds)
    with_rooms = [i for i in items if i.features is not None and i.scene.room_type]
    room_model = None
    if len({i.scene.room_type for i in with_rooms}) >= 2:
        room_model = RoomModel.fit(np.stack([i.features for i in with_rooms]),
                                   [i.scene.room_type for i in with_rooms], folds=folds)
    return fitted, room_model


def _with_rooms(analysis: SceneAnalysis, model: RoomModel | None) -> SceneAnalysis:
    if model is None or analysis.regions is None:
        return analysis
    probs = model.probabilities(room_features(analysis.regions))[0]
    rooms = dict(sorted(zip(model.classes, probs.tolist()), key=lambda kv: -kv[1]))
    return dataclasses.replace(analysis, room_type=rooms)


def crossval_method(items: list[LabelledAnalysis], index: VectorIndex, analyzer: SceneAnalyzer,
                    base: RankConfig, *, k: int, folds: int, seed: int = 0):
    """A ranking method for ``run_eval`` in which every scene is ranked by weights and a room
    model fitted on the *other* folds only: held-out figures from one eval run."""
    order = np.random.default_rng(seed).permutation(len(items))
    folds = max(2, min(folds, len(items)))
    outputs: dict[str, MethodOutput] = {}
    for f in range(folds):
        test = set(order[f::folds].tolist())
        train = [items[i] for i in range(len(items)) if i not in test]
        try:
            fitted, room_model = fit_models(train, Ranker(base), k=k, labels="", folds=0)
            ranker = Ranker(base.model_copy(update={"weights": fitted.weights, "diversity": fitted.diversity}))
        except ConfigError:  # no training scene with an indexed relevant product: defaults
            ranker, room_model = Ranker(base), None
        for i in sorted(test):
            analysis = _with_rooms(items[i].analysis, room_model)
            pool: Pool | None = ranker.pool(analysis, index, k, style_of=analyzer.style_distribution)
            ranked = []
            if pool is not None:
                ranked = [pool.records[j].id for j in ranker.order(pool, ranker.scores(pool.factors), k)]
            outputs[id(items[i].scene)] = MethodOutput(ranked, next(iter(analysis.room_type)))

    def method(image, scene: LabelledScene) -> MethodOutput:
        return outputs[id(scene)]  # by identity: the same photo may be labelled twice

    return method
