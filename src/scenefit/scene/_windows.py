"""Dense regional matching: one model pass over the whole scene photo at a higher
resolution, its feature maps averaged over many windows. Each window approximates the
pooled features of that part of the photo, so product photos (pooled features) can be
compared with hundreds of regions for the price of one pass."""

from __future__ import annotations

import numpy as np

#: The photo's short side for the dense pass, in pixels (a whole number of feature cells).
DENSE_SHORT_SIDE = 896
#: Window sides in feature cells and the stride between windows (chosen by comparing
#: configurations: CHANGELOG.md, 0.3). Changing them changes which regions a product photo is
#: compared with, so the eval figures must be measured again.
WINDOW_SIZES = (6, 8, 12, 16)
STRIDE = 3


def window_means(fmap: np.ndarray, sizes=WINDOW_SIZES, stride: int = STRIDE) -> np.ndarray:
    """(n, C) mean features of every size×size window of a (C, h, w) feature map (the encoder's
    ``appearance_vectors`` makes them comparable with product photos), listed per size, row by
    row.

    A window's mean is separable: average ``size`` rows, then ``size`` columns. Each is one
    matrix product with a band matrix (one row per window start, ``1/size`` over the window),
    so the whole map is read a few times by BLAS instead of by per-element running sums."""
    c, h, w = fmap.shape
    rows = np.ascontiguousarray(np.asarray(fmap, np.float32).transpose(1, 0, 2)).reshape(h, c * w)
    out = []
    for s in sizes:
        down, across = _band(h, min(s, h), stride), _band(w, min(s, w), stride)
        by_rows = (down @ rows).reshape(-1, w)  # (windows down × C, w)
        means = (by_rows @ across.T).reshape(len(down), c, len(across))
        out.append(means.transpose(0, 2, 1).reshape(-1, c))
    return np.concatenate(out)


def _band(n: int, size: int, stride: int) -> np.ndarray:
    """(starts, n): row i averages the ``size`` positions from the i-th start."""
    starts = np.arange(0, n - size + 1, stride)
    band = np.zeros((len(starts), n), np.float32)
    for i, first in enumerate(starts):
        band[i, first : first + size] = 1.0 / size
    return band
