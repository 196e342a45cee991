"""Evaluation on labelled scenes: ranking metrics, room accuracy and baselines."""

from ._baselines import cosine_method, random_method
from ._chart import write_chart
from ._labels import LabelledScene, read_labels
from ._metrics import METRICS, RECALL, mean_metrics, ranking_metrics
from ._runner import (EvalInfo, EvalReport, Method, MethodFigures, MethodOutput, RoomAccuracy, SceneOutcome,
                      run_eval)

__all__ = [
    "EvalInfo", "EvalReport", "LabelledScene", "METRICS", "Method", "MethodFigures", "MethodOutput", "RECALL",
    "RoomAccuracy", "SceneOutcome", "cosine_method", "mean_metrics", "random_method", "ranking_metrics",
    "read_labels", "run_eval", "write_chart",
]
