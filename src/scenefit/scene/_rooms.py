"""What a fitted room-type classifier must offer the scene analyser, and the features it reads.

The classifier is fitted and saved by :mod:`scenefit.learn`, which depends on this package;
the analyser only needs :class:`RoomClassifier`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class RoomClassifier(Protocol):
    #: room types, in the order of the probability columns
    classes: list[str]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, classes) room-type probabilities of ``room_features`` rows."""


def classified_rooms(model: RoomClassifier, regions: np.ndarray) -> dict[str, float]:
    """The classifier's room-type distribution of one scene, most likely first."""
    probs = model.probabilities(room_features(regions))[0]
    return {name: float(p) for name, p in sorted(zip(model.classes, probs.tolist()), key=lambda kv: -kv[1])}


def room_features(regions: np.ndarray) -> np.ndarray:
    """(2·d,) features of one scene: its whole photo and the mean of its crops."""
    crops = regions[1:] if len(regions) > 1 else regions[:1]
    return np.concatenate([regions[0], crops.mean(axis=0)]).astype(np.float64)
