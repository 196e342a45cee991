"""A scene photo as the analyser takes it: decoded (within the decoder's size limits) and
large enough to analyse."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from .._errors import ImageError
from ..images import open_image

#: Smaller scene photos carry too little to analyse (and can't be split into regions).
MIN_SCENE_SIDE = 32


def read_scene(scene: str | Path | bytes | Image.Image) -> Image.Image:
    image = scene if isinstance(scene, Image.Image) else open_image(scene)
    if min(image.size) < MIN_SCENE_SIDE:
        w, h = image.size
        raise ImageError(f"scene image is {w}×{h} pixels; at least {MIN_SCENE_SIDE} on each side is needed")
    return image
