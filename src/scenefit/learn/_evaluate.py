"""``scenefit eval``: scenefit against its baselines on labelled scenes, either as the index
stands (its saved fit, if any) or cross-validated (fitted on the other folds per scene)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .._progress import Progress
from .._schema import MatchResult
from ..embed import Encoder
from ..evaluate import EvalInfo, EvalReport, LabelledScene, Method, MethodOutput, cosine_method, random_method, run_eval
from ..index import VectorIndex
from ..rank import RankConfig, Ranker
from ..scene import SceneAnalyzer, SceneConfig, regions_for
from ._adapter import AppearanceAdapter
from ._crossval import crossval_method
from ._labelled import analyze_labelled
from ._ranking import FittedRanking

SCENEFIT, COSINE, RANDOM = "scenefit", "cosine", "random"
#: A photo's match result, as ``Engine.match`` gives it.
Match = Callable[[Image.Image], MatchResult]


def evaluate_scenes(scenes: list[LabelledScene], index: VectorIndex, encoder: Encoder, *, k: int, cv: int,
                    seed: int, adapt: bool, scene: SceneConfig, rank: RankConfig, match: Match,
                    progress: Progress, catalog: str, labels: str | Path, index_dir: str | Path,
                    fitted: FittedRanking | None, start: AppearanceAdapter | None = None) -> EvalReport:
    """Rank every scene with scenefit and the baselines (plain cosine, random: ``seed``);
    the report's info names ``catalog``, ``labels`` and ``index_dir``, and says whether
    ``match`` ranked with fitted weights (``fitted``: those the engine uses).

    ``cv`` > 1: scenefit's appearance adapter (unless ``adapt`` is False), weights and room
    model are fitted on the other folds for each scene, from zero-shot analyses with ``scene``
    and ``rank``; otherwise scenefit is ``match`` (the engine as it stands: a photo's top-``k``
    match result). ``start``: the label-free adapter the cross-validated fits start from."""
    ids = index.ids()
    rng = np.random.default_rng(seed)  # drawn from by the random baseline only, scene by scene
    scenefit = _as_method(match)
    if cv > 1:
        zero_shot = SceneAnalyzer(encoder, scene)
        items = analyze_labelled(scenes, index, zero_shot, Ranker(rank), k, progress)
        scenefit = crossval_method(items, index, zero_shot, rank, k=k, folds=cv, seed=seed, adapt=adapt,
                                   progress=progress, start=start)
    methods = {SCENEFIT: scenefit, COSINE: cosine_method(index, encoder, k), RANDOM: random_method(ids, k, rng)}
    report = run_eval(scenes, methods, k=k, known_ids=set(ids), primary=SCENEFIT, progress=progress)
    report.info = EvalInfo(
        catalog=catalog, labels=str(labels), index=str(index_dir), model=index.manifest.model_id,
        products=len(index), regions=regions_for(scene, encoder), seed=seed,
        scenefit=scenefit_setup(fitted, labels, cv=cv, adapt=adapt, start=start),
    )
    return report


def _as_method(match: Match) -> Method:
    def method(image: Image.Image, scene: LabelledScene) -> MethodOutput:
        result = match(image)
        return MethodOutput([r.id for r in result.recommendations], next(iter(result.scene.room_type)))

    return method


def scenefit_setup(fitted: FittedRanking | None, labels: str | Path, *, cv: int, adapt: bool,
                   start: AppearanceAdapter | None = None) -> str:
    """How scenefit ranked in an eval, for its report: cross-validated (from the label-free
    adapter ``start``, if any), or with the fitted weights the engine uses (``fitted``; flagged
    when fitted on these same labels)."""
    if cv > 1:
        if start is None:
            return f"{cv}-fold cross-validated fit" + ("" if adapt else ", no appearance adapter")
        return f"{cv}-fold cross-validated fit" + (", adapter from the label-free one" if adapt
                                                   else ", label-free adapter (not refitted)")
    if fitted is None:
        return "default weights" + ("" if start is None else ", label-free adapter")
    if Path(fitted.labels).resolve() == Path(labels).resolve():
        return "fitted on these same labels: IN-SAMPLE figures, use --cv for held-out ones"
    return "fitted ranking.json and room model"
