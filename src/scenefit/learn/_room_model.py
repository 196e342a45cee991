"""A room-type classifier fitted on labelled scenes (multinomial logistic regression).

Zero-shot room prompts only reach about half right on real rooms; a small linear model on the
scene's appearance features (the whole photo and the mean of its regions) learns what each
room type looks like from a user's own labelled photos. Fitted by ``scenefit fit`` with
k-fold cross-validation, saved in the index folder, and used by the scene analyser when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from ._files import load_fitted, save_fitted
from ._folds import kfold

FILE = "room-model.npz"
FORMAT_VERSION = 1


def _train(x: np.ndarray, y: np.ndarray, n_classes: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised softmax regression (sklearn's objective: C·Σ log-loss + ½‖W‖²), by L-BFGS."""
    from scipy.optimize import minimize

    n, d = x.shape
    onehot = np.eye(n_classes)[y]

    def loss(theta):
        w, b = theta[: d * n_classes].reshape(d, n_classes), theta[d * n_classes :]
        p = softmax(x @ w + b, axis=1)
        value = -c * np.sum(onehot * np.log(p + 1e-12)) + 0.5 * np.sum(w * w)
        g = c * (p - onehot)
        return value, np.concatenate([(x.T @ g + w).ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(d * n_classes + n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": 500})
    return res.x[: d * n_classes].reshape(d, n_classes), res.x[d * n_classes :]


@dataclass
class RoomModel:
    """A :class:`scenefit.scene.RoomClassifier` on :func:`scenefit.scene.room_features`."""

    classes: list[str]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    cv_accuracy: float | None = None
    n_scenes: int = 0
    model_id: str = ""  # encoder whose appearance features it was fitted on

    @classmethod
    def fit(cls, features: np.ndarray, rooms: list[str], *, c: float = 1.0, folds: int = 5, seed: int = 0) -> "RoomModel":
        classes = sorted(set(rooms))
        y = np.array([classes.index(r) for r in rooms])
        splits = kfold(len(y), folds, seed) if folds else []  # 0: no CV (the caller does it)
        right = 0
        for fold in splits:
            train, test = fold.train, fold.test
            right += int((cls._fit_arrays(features[train], y[train], classes, c).predict_index(features[test]) == y[test]).sum())
        model = cls._fit_arrays(features, y, classes, c)
        model.cv_accuracy = round(right / len(y), 4) if splits else None
        model.n_scenes = len(y)
        return model

    @classmethod
    def _fit_arrays(cls, x, y, classes, c) -> "RoomModel":
        # A floor on the scale: near-constant features (common in small folds) must not turn
        # tiny differences into huge standardised values.
        mean, std = x.mean(axis=0), x.std(axis=0)
        std = np.maximum(std, 1e-2 * float(std.mean()) + 1e-12)
        w, b = _train((x - mean) / std, y, len(classes), c)
        return cls(classes, mean, std, w, b)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        x = (np.atleast_2d(features) - self.mean) / self.std
        return softmax(x @ self.weights + self.bias, axis=1)

    def predict_index(self, features: np.ndarray) -> np.ndarray:
        return self.probabilities(features).argmax(axis=1)

    def save(self, folder: Path) -> Path:
        meta = {"classes": self.classes, "cv_accuracy": self.cv_accuracy, "n_scenes": self.n_scenes,
                "model_id": self.model_id}
        return save_fitted(folder, FILE, FORMAT_VERSION, {"mean": self.mean, "std": self.std,
                           "weights": self.weights, "bias": self.bias}, meta)

    @classmethod
    def load(cls, folder: Path) -> "RoomModel | None":
        return load_fitted(folder, FILE, FORMAT_VERSION, lambda data, meta: cls(
            meta["classes"], data["mean"], data["std"], data["weights"], data["bias"],
            meta.get("cv_accuracy"), meta.get("n_scenes", 0), meta.get("model_id", "")))
