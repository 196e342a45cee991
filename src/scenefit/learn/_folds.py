"""The one k-fold split every cross-validation in scenefit uses (the ranking weights, the room
model, ``scenefit eval --cv`` and the benchmarks), so that one seed means one split everywhere.

What must stay true: item ``i`` of a seeded permutation of ``range(n)`` goes to fold
``i mod folds``; the folds are disjoint and together hold every item once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fold:
    test: np.ndarray  # item indices held out, ascending
    train: np.ndarray  # every other item, ascending
    shuffled: np.ndarray  # all items in the split's seeded order

    def train_in_split_order(self) -> np.ndarray:
        """``train`` in the seeded order: a fit whose float sums run over its items in this
        order reproduces its figures only in this order."""
        return self.shuffled[~np.isin(self.shuffled, self.test)]


def fold_count(n: int, folds: int) -> int:
    """Folds actually used for ``n`` items: at least 2, at most one item per fold."""
    return max(2, min(folds, n))


def kfold(n: int, folds: int, seed: int = 0) -> list[Fold]:
    """``fold_count(n, folds)`` folds of ``n`` items (none when ``n`` is 0)."""
    if n == 0:
        return []
    order = np.random.default_rng(seed).permutation(n)
    count = fold_count(n, folds)
    out = []
    for f in range(count):
        test = np.sort(order[f::count])
        out.append(Fold(test, np.setdiff1d(order, test), order))
    return out
