"""Pixels as EfficientNet-Lite0 reads them, for either runtime."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from ..images import centre_square

INPUT_SIZE = 224
#: Side of one cell of the network's feature maps, in pixels.
CELL = 32


def preprocess_many(images: Sequence[Image.Image]) -> np.ndarray:
    """(n, 3, 224, 224) for a batch, prepared one after another."""
    return np.stack([preprocess(im) for im in images])


def preprocess(image: Image.Image) -> np.ndarray:
    """Centre-crop to a square, resize to 224, scale as (x − 127) / 128, CHW float32.

    Cropping first keeps the work bounded for extreme shapes (a thin strip is cropped to a
    small square before it is resized, never blown up along its long side). EfficientNet-Lite
    was trained on this scaling, not on ImageNet mean/std, which misclassifies badly.
    """
    im = centre_square(image.convert("RGB")).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC)
    return _scaled(im)


def whole_photo(image: Image.Image, short_side: int) -> np.ndarray:
    """(1, 3, H, W): the whole photo resized to a short side of about ``short_side`` px, each
    side rounded to whole feature cells, scaled as :func:`preprocess` scales."""
    w, h = image.size
    scale = short_side / min(w, h)
    size = (max(CELL, round(w * scale / CELL) * CELL), max(CELL, round(h * scale / CELL) * CELL))
    return _scaled(image.convert("RGB").resize(size, Image.Resampling.BICUBIC))[None]


def _scaled(im: Image.Image) -> np.ndarray:
    """(3, H, W) float32, contiguous (a runtime then reads it without a copy), in one pass
    over the pixels: ×1/128 is exactly ÷128, a power of two."""
    pixels = np.asarray(im).transpose(2, 0, 1)
    out = np.empty(pixels.shape, np.float32)
    np.subtract(pixels, 127.0, out=out, dtype=np.float32)
    out *= 1.0 / 128.0
    return out
