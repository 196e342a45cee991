"""Run ranking methods over labelled scenes and aggregate the figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Sequence

from PIL import Image

from .._progress import NullProgress, Progress
from ..images import open_image
from ._labels import LabelledScene
from ._metrics import mean_metrics, ranking_metrics


@dataclass(frozen=True)
class MethodOutput:
    ranked: list[str]  # product ids, best first
    room_type: str | None = None  # predicted room, for methods that predict one


#: ranks one scene: (decoded photo, its label entry) → output
Method = Callable[[Image.Image, LabelledScene], MethodOutput]


@dataclass
class EvalReport:
    k: int
    methods: dict[str, dict]  # name → {"overall": metrics, "by_room": {room: metrics}}
    room_accuracy: dict = field(default_factory=dict)  # {"overall": acc, "by_room": {…}, "n": …}
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # true → predicted → n
    scenes: list[dict] = field(default_factory=list)
    n_scenes: int = 0
    relevant_missing: int = 0  # labelled products absent from the index (cannot be found)
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "k": self.k, "n_scenes": self.n_scenes, **self.info,
            "relevant_missing_from_index": self.relevant_missing,
            "methods": self.methods, "room_accuracy": self.room_accuracy,
            "confusion": self.confusion, "scenes": self.scenes,
        }


def run_eval(
    scenes: Sequence[LabelledScene],
    methods: dict[str, Method],
    *,
    k: int,
    known_ids: set[str],
    primary: str,
    progress: Progress | None = None,
) -> EvalReport:
    """Every method ranks every scene; ``primary`` is the method whose room predictions and
    rankings go into the per-scene results."""
    progress = progress or NullProgress()
    per_method: dict[str, list[tuple[str | None, dict]]] = defaultdict(list)
    report = EvalReport(k=k, methods={})
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    correct: dict[str, list[bool]] = defaultdict(list)
    with progress.task("Evaluating scenes", len(scenes)) as advance:
        for sc in scenes:
            image = open_image(sc.path)
            relevant = sc.relevant & known_ids
            report.relevant_missing += len(sc.relevant - known_ids)
            entry = {"scene": sc.scene, "true_room_type": sc.room_type}
            for name, method in methods.items():
                out = method(image, sc)
                if relevant:
                    per_method[name].append((sc.room_type, ranking_metrics(out.ranked, relevant, k)))
                if name == primary:
                    entry["room_type"] = out.room_type
                    entry["ranked"] = out.ranked[:k]
                    entry["hits"] = sorted(set(out.ranked[:k]) & relevant)
                    if sc.room_type and out.room_type:
                        confusion[sc.room_type][out.room_type] += 1
                        correct[sc.room_type].append(out.room_type == sc.room_type)
            report.scenes.append(entry)
            advance(1)
    report.n_scenes = len(scenes)
    for name, rows in per_method.items():
        by_room: dict[str, list[dict]] = defaultdict(list)
        for room, m in rows:
            by_room[room or "unknown"].append(m)
        report.methods[name] = {
            "overall": mean_metrics([m for _, m in rows]),
            "by_room": {room: mean_metrics(ms) for room, ms in sorted(by_room.items())},
            "n": len(rows),
        }
    all_correct = [c for cs in correct.values() for c in cs]
    report.room_accuracy = {
        "overall": round(sum(all_correct) / len(all_correct), 4) if all_correct else None,
        "by_room": {r: round(sum(cs) / len(cs), 4) for r, cs in sorted(correct.items())},
        "n": len(all_correct),
    }
    report.confusion = {t: dict(sorted(p.items())) for t, p in sorted(confusion.items())}
    return report
