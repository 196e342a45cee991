"""Held-out figures from one eval run: every labelled scene ranked by an adapter, weights and
a room model fitted on the *other* folds only (``scenefit eval --cv``)."""

from __future__ import annotations

import dataclasses

from .._errors import ConfigError
from .._progress import NullProgress, Progress
from .._types import FITTED, SceneAnalysis
from ..evaluate import LabelledScene, Method, MethodOutput
from ..index import VectorIndex
from ..rank import RankConfig, Ranker
from ..scene import SceneAnalyzer, classified_rooms
from ._adapter import AppearanceAdapter
from ._fit import fit_models
from ._folds import fold_count, kfold
from ._labelled import LabelledAnalysis
from ._room_model import RoomModel


def crossval_method(items: list[LabelledAnalysis], index: VectorIndex, analyzer: SceneAnalyzer,
                    base: RankConfig, *, k: int, folds: int, seed: int = 0, adapt: bool = True,
                    progress: Progress | None = None, start: AppearanceAdapter | None = None) -> Method:
    """A ranking method for ``run_eval`` that answers each scene from the fit that held it out
    (its adapter fitted from ``start``, the label-free adapter, when given)."""
    outputs: dict[int, MethodOutput] = {}
    with (progress or NullProgress()).task("Fitting on the other folds", fold_count(len(items), folds)) as advance:
        for fold in kfold(len(items), folds, seed):
            rank_fold(items, fold.train.tolist(), fold.test.tolist(), index, analyzer, base, k, adapt, outputs, start)
            advance(1)

    def method(image, scene: LabelledScene) -> MethodOutput:
        return outputs[id(scene)]  # by identity: the same photo may be labelled twice

    return method


def rank_fold(items: list[LabelledAnalysis], train: list[int], test: list[int], index: VectorIndex,
              analyzer: SceneAnalyzer, base: RankConfig, k: int, adapt: bool,
              outputs: dict[int, MethodOutput], start: AppearanceAdapter | None = None) -> None:
    """Fit on the ``train`` items, rank the ``test`` ones into ``outputs`` (by scene identity)."""
    try:
        result = fit_models([items[i] for i in train], Ranker(base), index, k=k, labels="",
                            style_of=analyzer.style_distribution, folds=0, adapt=adapt, start=start)
        fitted, room_model = result.ranking, result.room_model
        ranker = Ranker(base.model_copy(update={"weights": fitted.weights, "diversity": fitted.diversity}),
                        result.adapter or start)
    except ConfigError:  # no training scene with an indexed relevant product: defaults
        ranker, room_model = Ranker(base, start), None
    for i in test:
        analysis = _with_rooms(items[i].analysis, room_model)
        pool = ranker.pool(analysis, index, k, style_of=analyzer.style_distribution)
        ranked = []
        if pool is not None:
            ranked = [pool.records[j].id for j in ranker.order(pool, ranker.scores(pool.factors), k)]
        outputs[id(items[i].scene)] = MethodOutput(ranked, next(iter(analysis.room_type)))


def _with_rooms(analysis: SceneAnalysis, model: RoomModel | None) -> SceneAnalysis:
    if model is None or analysis.regions is None:
        return analysis
    return dataclasses.replace(analysis, room_type=classified_rooms(model, analysis.regions),
                               room_source=FITTED)
