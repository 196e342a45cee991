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
    integral = np.zeros((c, h + 1, w + 1), np.float64)
    integral[:, 1:, 1:] = fmap.cumsum(1).cumsum(2)
    out = []
    for s in sizes:
        sh, sw = min(s, h), min(s, w)
        for y in range(0, h - sh + 1, stride):
            for x in range(0, w - sw + 1, stride):
                total = integral[:, y + sh, x + sw] - integral[:, y, x + sw] - integral[:, y + sh, x] + integral[:, y, x]
                out.append(total / (sh * sw))
    return np.asarray(out, np.float32)
