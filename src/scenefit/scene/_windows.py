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
    ``appearance_vectors`` makes them comparable with product photos); an integral image makes
    each window one subtraction."""
    c, h, w = fmap.shape
    # Channels last, so both running sums run over contiguous rows of channels; float32 and in
    # place, as the map's own precision: a window's mean then differs from a float64 sum by
    # about 1e-5 of the features' scale, far below what changes a ranking.
    integral = np.zeros((h + 1, w + 1, c), np.float32)
    inner = integral[1:, 1:]
    np.cumsum(np.moveaxis(fmap, 0, -1), axis=0, out=inner)
    np.cumsum(inner, axis=1, out=inner)
    out = []
    for s in sizes:
        sh, sw = min(s, h), min(s, w)
        ys = np.arange(0, h - sh + 1, stride)[:, None]
        xs = np.arange(0, w - sw + 1, stride)[None, :]
        total = integral[ys + sh, xs + sw] - integral[ys, xs + sw] - integral[ys + sh, xs] + integral[ys, xs]
        out.append((total / (sh * sw)).reshape(-1, c))  # row by row, as the windows are listed
    return np.concatenate(out)
