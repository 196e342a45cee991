"""Evaluation on labelled scenes: ranking metrics, room accuracy and baselines."""

from ._chart import write_chart
from ._labels import LabelledScene, read_labels
from ._metrics import METRICS, mean_metrics, ranking_metrics
from ._runner import EvalReport, Method, MethodOutput, run_eval

__all__ = [
    "EvalReport", "LabelledScene", "METRICS", "Method", "MethodOutput", "mean_metrics",
    "ranking_metrics", "read_labels", "run_eval", "write_chart",
]
