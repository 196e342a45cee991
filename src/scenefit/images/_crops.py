"""Regions of a photo: as scenes are viewed (an n×n grid of crops and the centre), and the
square the image network reads."""

from __future__ import annotations

from PIL import Image


def grid(image: Image.Image, n: int) -> list[Image.Image]:
    """The n×n crops of ``image``, column by column."""
    w, h = image.size
    return [image.crop((w * i // n, h * j // n, w * (i + 1) // n, h * (j + 1) // n))
            for i in range(n) for j in range(n)]


def centre(image: Image.Image) -> Image.Image:
    """The middle half of ``image`` in each direction."""
    w, h = image.size
    return image.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4))


def centre_square(image: Image.Image) -> Image.Image:
    """The largest square in the middle of ``image`` (what the offline image network reads)."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.crop((left, top, left + side, top + side))
