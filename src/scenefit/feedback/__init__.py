"""Learning from use: served matches and shoppers' feedback on them, recorded in the store of
record; A/B experiments between fitted variants; labels exported for ``scenefit fit``.

    >>> loop = engine.feedback
    >>> loop.export("labels.jsonl")                # then: scenefit fit --labels labels.jsonl
    >>> loop.report(k=10).comparisons[0].verdict   # the experiment, per variant
"""

from ._events import COMMITTED, CURATOR_EVENTS, NEGATIVE, POSITIVE, Event, FeedbackEvent, MatchRecord, ShownItem, verdict
from ._experiments import DEFAULT as DEFAULT_VARIANT
from ._experiments import FILE as EXPERIMENTS_FILE
from ._experiments import Experiment, Variant, inside_index
from ._export import ExportReport, export_labels
from ._loop import MAX_EVENTS_PER_MATCH, FeedbackLoop, now_iso, open_feedback
from ._report import Comparison, ExperimentReport, VariantFigures, experiment_report
from ._stats import CONFIDENCE, Difference, Proportion, compare
from ._store import SQLITE_FILE, FeedbackStore, Purged, utc_iso

__all__ = [
    "COMMITTED", "CONFIDENCE", "CURATOR_EVENTS", "DEFAULT_VARIANT", "EXPERIMENTS_FILE", "MAX_EVENTS_PER_MATCH", "NEGATIVE",
    "POSITIVE", "SQLITE_FILE", "Comparison", "Difference", "Event", "Experiment", "ExperimentReport",
    "ExportReport", "FeedbackEvent", "FeedbackLoop", "FeedbackStore", "MatchRecord", "Proportion", "Purged",
    "ShownItem", "Variant", "VariantFigures", "compare", "experiment_report", "export_labels", "now_iso",
    "inside_index", "open_feedback", "utc_iso", "verdict",
]
