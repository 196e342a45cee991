"""Run ranking methods over labelled scenes and aggregate the figures."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Sequence

from PIL import Image

from .._progress import NullProgress, Progress
from ..images import open_image
from ._labels import LabelledScene
from ._metrics import RECALL, mean_metrics, ranking_metrics


@dataclass(frozen=True)
class MethodOutput:
    ranked: list[str]  # product ids, best first
    room_type: str | None = None  # predicted room, for methods that predict one


#: ranks one scene: (decoded photo, its label entry) → output
Method = Callable[[Image.Image, LabelledScene], MethodOutput]


@dataclass
class MethodFigures:
    """One method's mean metrics (names: ``METRICS``) over the scenes with a findable product."""

    overall: dict[str, float]
    by_room: dict[str, dict[str, float]]  # labelled room type ("unknown" without one) → metrics
    n: int  # scenes measured

    def recall_in(self, room: str) -> float:
        return self.by_room.get(room, {}).get(RECALL, 0.0)


@dataclass
class RoomAccuracy:
    """How often the primary method's room type matched the label, over scenes with both."""

    overall: float | None = None  # None: no scene with a labelled and a predicted room type
    by_room: dict[str, float] = field(default_factory=dict)
    n: int = 0


@dataclass
class SceneOutcome:
    """The primary method's answer for one scene."""

    scene: str  # as written in the labels file
    true_room_type: str | None
    room_type: str | None = None
    ranked: list[str] = field(default_factory=list)  # the top k
    hits: list[str] = field(default_factory=list)  # relevant ones among them


@dataclass
class EvalInfo:
    """What was evaluated, and how (``scenefit`` says where its weights came from)."""

    catalog: str
    labels: str
    index: str
    model: str
    products: int
    regions: str
    seed: int
    scenefit: str


@dataclass
class EvalReport:
    k: int
    methods: dict[str, MethodFigures] = field(default_factory=dict)
    room_accuracy: RoomAccuracy = field(default_factory=RoomAccuracy)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # true → predicted → n
    scenes: list[SceneOutcome] = field(default_factory=list)
    n_scenes: int = 0
    relevant_missing: int = 0  # labelled products absent from the index (cannot be found)
    info: EvalInfo | None = None

    def to_dict(self) -> dict:
        """The ``scenefit eval --json`` file; its keys and their order are a contract."""
        return {
            "k": self.k, "n_scenes": self.n_scenes,
            **(dataclasses.asdict(self.info) if self.info is not None else {}),
            "relevant_missing_from_index": self.relevant_missing,
            "methods": {name: dataclasses.asdict(m) for name, m in self.methods.items()},
            "room_accuracy": dataclasses.asdict(self.room_accuracy),
            "confusion": self.confusion, "scenes": [dataclasses.asdict(s) for s in self.scenes],
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
    if primary not in methods:
        raise ValueError(f"primary method {primary!r} is not among {sorted(methods)}")
    progress = progress or NullProgress()
    per_method: dict[str, list[tuple[str | None, dict]]] = defaultdict(list)
    report = EvalReport(k=k)
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    correct: dict[str, list[bool]] = defaultdict(list)
    with progress.task("Evaluating scenes", len(scenes)) as advance:
        for sc in scenes:
            image = open_image(sc.path)
            relevant = sc.relevant & known_ids
            report.relevant_missing += len(sc.relevant - known_ids)
            entry = SceneOutcome(sc.scene, sc.room_type)
            for name, method in methods.items():
                out = method(image, sc)
                if relevant:
                    per_method[name].append((sc.room_type, ranking_metrics(out.ranked, relevant, k)))
                if name == primary:
                    entry.room_type = out.room_type
                    entry.ranked = out.ranked[:k]
                    entry.hits = sorted(set(out.ranked[:k]) & relevant)
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
        report.methods[name] = MethodFigures(
            overall=mean_metrics([m for _, m in rows]),
            by_room={room: mean_metrics(ms) for room, ms in sorted(by_room.items())},
            n=len(rows),
        )
    all_correct = [c for cs in correct.values() for c in cs]
    report.room_accuracy = RoomAccuracy(
        overall=round(sum(all_correct) / len(all_correct), 4) if all_correct else None,
        by_room={r: round(sum(cs) / len(cs), 4) for r, cs in sorted(correct.items())},
        n=len(all_correct),
    )
    report.confusion = {t: dict(sorted(p.items())) for t, p in sorted(confusion.items())}
    return report
