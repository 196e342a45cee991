"""Pixels as EfficientNet-Lite0 reads them, for either runtime."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from ..images import centre_square

INPUT_SIZE = 224
#: Side of one cell of the network's feature maps, in pixels.
CELL = 32


def preprocess_many(images: Sequence[Image.Image]) -> np.ndarray:
    """(n, 3, 224, 224) for a batch, prepared one after another."""
    return np.stack([preprocess(im) for im in images])


def prepared_batches(images: Sequence[Image.Image], size: int) -> Iterator[np.ndarray]:
    """``preprocess_many`` of runs of ``size`` images, in order. While the caller runs the
    network on one run, the next is prepared in a helper thread (PIL's resampling and numpy
    release the GIL), so resizing overlaps inference; one run ahead at most."""
    runs = [images[start : start + size] for start in range(0, len(images), size)]
    if len(runs) <= 1:
        yield from (preprocess_many(run) for run in runs)
        return
    # A thread per call, not one kept per process: a process forked later would inherit a
    # pool whose thread does not exist there.
    with ThreadPoolExecutor(1, thread_name_prefix="scenefit-preprocess") as helper:
        ahead = helper.submit(preprocess_many, runs[0])
        for run in runs[1:]:
            ready = ahead.result()
            ahead = helper.submit(preprocess_many, run)
            yield ready
        yield ahead.result()


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
