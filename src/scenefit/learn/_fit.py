"""What ``scenefit fit`` saves: the appearance adapter, then the fusion weights on pools
retrieved through it, then the room-type model, all from the same analysed scenes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._progress import Progress
from ..embed import Encoder
from ..evaluate import LabelledScene
from ..index import VectorIndex
from ..rank import RankConfig, Ranker
from ..scene import SceneAnalyzer, SceneConfig
from ._adapter import AdapterFitConfig, AdapterSample, AppearanceAdapter
from ._labelled import LabelledAnalysis, StyleOf, analyze_labelled, fit_sample
from ._ranking import FittedRanking, fit_ranking
from ._room_model import RoomModel


@dataclass
class FitResult:
    ranking: FittedRanking
    room_model: RoomModel | None  # None without an appearance space or room labels
    adapter: AppearanceAdapter | None  # None without an appearance space, or when not asked for


def fit_adapter(items: list[LabelledAnalysis], index: VectorIndex, config: AdapterFitConfig | None = None,
                start: AppearanceAdapter | None = None) -> AppearanceAdapter | None:
    """The appearance adapter, fitted on the scenes' regions against their relevant products'
    photos, starting from ``start`` (the label-free adapter) when given. None without an
    appearance space.

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
    adapter = AppearanceAdapter.fit(samples, store.vectors(keys), config, start=start)
    if start is not None:
        adapter.source = "composites+labels"
    return adapter


def fit_models(items: list[LabelledAnalysis], ranker: Ranker, index: VectorIndex, *, k: int, labels: str,
               style_of: StyleOf, folds: int = 5, adapt: bool = True,
               start: AppearanceAdapter | None = None) -> FitResult:
    """The appearance adapter (when ``adapt``; from ``start``, the label-free adapter, when
    given), then the fusion weights (+ MMR diversity) on candidate pools retrieved and scored
    through it (through ``start`` without ``adapt``), and, where possible, a room-type model.
    ``style_of`` is the analyser's ``style_distribution``; ``folds`` 0 fits without
    cross-validation (the caller's own folds are held out already)."""
    adapter = fit_adapter(items, index, start=start) if adapt else None
    samples = [i.sample for i in items if i.sample is not None]
    if (adapter or start) is not None:
        ranker = Ranker(ranker.config, adapter or start)
        samples = [s for i in items if i.sample is not None
                   if (s := fit_sample(i.analysis, i.relevant_keys, ranker, index, k, style_of,
                                       i.irrelevant_keys)) is not None]
    fitted = fit_ranking(samples, ranker, k=k, labels=labels, folds=folds)
    with_rooms = [i for i in items if i.features is not None and i.scene.room_type]
    room_model = None
    if len({i.scene.room_type for i in with_rooms}) >= 2:
        room_model = RoomModel.fit(np.stack([i.features for i in with_rooms]),
                                   [i.scene.room_type for i in with_rooms], folds=folds)
    return FitResult(fitted, room_model, adapter)


def fit_labelled(scenes: list[LabelledScene], index: VectorIndex, encoder: Encoder, *, scene: SceneConfig,
                 rank: RankConfig, k: int, labels: str, adapt: bool, progress: Progress,
                 start: AppearanceAdapter | None = None) -> FitResult:
    """What ``scenefit fit`` fits on labelled scenes, from zero-shot analyses: a room model
    fitted earlier on these same scenes would give in-sample (optimistic) room predictions
    and skew the weights."""
    analyzer = SceneAnalyzer(encoder, scene)
    ranker = Ranker(rank)
    items = analyze_labelled(scenes, index, analyzer, ranker, k, progress)
    return fit_models(items, ranker, index, k=k, labels=labels, style_of=analyzer.style_distribution, adapt=adapt,
                      start=start)
