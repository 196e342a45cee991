"""Synthetic room photos made from a catalog: product photos cut out of their white studio
backgrounds and pasted into room photos, each paste knowing which product it is.

They stand in for labelled scenes when a user has none: the appearance adapter learns how a
studio photo differs from the same product small, lit by the room and partly hidden, from
(composite, pasted products) pairs (:mod:`scenefit.learn._label_free`).

What must stay true:

- a cut-out is the product only: background is what is near-white *and* connected to the
  photo's border, so white parts inside a product stay; a photo not shot on white (a
  lifestyle photo) is pasted whole, as a rectangle, rather than cut badly;
- everything random comes from the ``numpy`` generator passed in, so a seed repeats a fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from scipy import ndimage

#: a pixel whose every channel is at least this is studio white
WHITE = 232
#: the share of border pixels that must be white for a photo to count as shot on white
WHITE_BORDER = 0.6


def cut_out(photo: Image.Image, max_side: int = 512) -> tuple[Image.Image, bool]:
    """The product in ``photo`` as RGBA with a soft-edged alpha, cropped to it, and True; the
    whole photo (opaque) and False when it is not on a white background or nothing is left
    after cutting."""
    photo = photo.convert("RGB")
    if max(photo.size) > max_side:
        photo = photo.copy()
        photo.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    rgb = np.asarray(photo)
    white = rgb.min(axis=2) >= WHITE
    border = np.concatenate([white[0], white[-1], white[:, 0], white[:, -1]])
    if border.mean() < WHITE_BORDER:
        return photo.convert("RGBA"), False
    labels, _ = ndimage.label(white)
    touching = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, touching[touching > 0])
    # specks of JPEG noise on the background and hairlines of white around the product go
    product = ndimage.binary_opening(~background, iterations=2)
    if product.mean() < 0.01:
        return photo.convert("RGBA"), False
    ys, xs = np.nonzero(product)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    alpha = Image.fromarray((product * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0))
    out = photo.convert("RGBA")
    out.putalpha(alpha)
    return out.crop(box), True


@dataclass(frozen=True)
class CompositeConfig:
    """How products are placed into a background."""

    #: the composite's short side in pixels (the dense pass reads photos at about this size)
    short_side: int = 896
    #: products pasted into each composite (inclusive range)
    products: tuple[int, int] = (2, 5)
    #: a product's width as a share of the frame's, drawn log-uniformly in this range
    scale: tuple[float, float] = (0.08, 0.45)
    #: chance that a paste loses part of itself, as if behind something or out of frame
    occlusion: float = 0.3
    #: share of a background photo kept by its random crop (area)
    crop: tuple[float, float] = (0.45, 1.0)


@dataclass
class Composite:
    image: Image.Image
    boxes: list[tuple[int, int, int, int]]  # where each pasted product is, in paste order


def _background(photo: Image.Image, config: CompositeConfig, rng: np.random.Generator) -> Image.Image:
    """A random view of a room photo: a crop, maybe mirrored, with its exposure and colour
    shifted, resized to the composite's short side."""
    w, h = photo.size
    area = rng.uniform(*config.crop)
    aspect = float(np.exp(rng.uniform(np.log(3 / 4), np.log(16 / 9))))
    cw = int(min(w, np.sqrt(area * w * h * aspect)))
    ch = int(min(h, cw / aspect))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    view = photo.convert("RGB").crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        view = ImageOps.mirror(view)
    scale = config.short_side / min(view.size)
    view = view.resize((max(1, round(view.width * scale)), max(1, round(view.height * scale))),
                       Image.Resampling.BILINEAR)
    view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.75, 1.2))
    view = ImageEnhance.Color(view).enhance(rng.uniform(0.7, 1.2))
    return view


def _light(product: Image.Image, around: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The product as the room lights it: darker or brighter, tinted towards the colour of
    where it stands, slightly soft (a studio photo is sharper than a room photo's detail)."""
    rgb = np.asarray(product.convert("RGB"), np.float32)
    tint = rng.uniform(0.0, 0.25)
    gain = rng.uniform(0.65, 1.1)
    mean = max(float(around.mean()), 1.0)
    lit = gain * ((1 - tint) * rgb + tint * rgb * (around / mean))
    out = Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))
    radius = rng.uniform(0.0, 1.2)
    if radius > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(radius))
    out.putalpha(product.getchannel("A"))
    return out


def _occlude(product: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Part of the product gone: a side or the bottom cut off (behind other furniture, or out
    of the frame)."""
    w, h = product.size
    cut = rng.uniform(0.15, 0.4)
    side = int(rng.integers(0, 3))
    if side == 0:  # bottom, behind a table or a sofa's back
        return product.crop((0, 0, w, max(1, int(h * (1 - cut)))))
    if side == 1:
        return product.crop((int(w * cut), 0, w, h))
    return product.crop((0, 0, max(1, int(w * (1 - cut))), h))


def compose(background: Image.Image, products: list[Image.Image], config: CompositeConfig,
            rng: np.random.Generator) -> Composite:
    """``products`` (cut-outs, RGBA) pasted into a random view of ``background``."""
    canvas = _background(background, config, rng)
    w, h = canvas.size
    pixels = np.asarray(canvas, np.float32)
    boxes = []
    for product in products:
        if rng.random() < config.occlusion:
            product = _occlude(product, rng)
        width = w * float(np.exp(rng.uniform(np.log(config.scale[0]), np.log(config.scale[1]))))
        scale = min(width / product.width, 0.8 * h / product.height)
        pw, ph = max(8, round(product.width * scale)), max(8, round(product.height * scale))
        sized = product.resize((pw, ph), Image.Resampling.BILINEAR)
        x = int(rng.integers(-pw // 5, max(w - 4 * pw // 5, -pw // 5 + 1)))
        # most furniture stands on the floor (lower part of the frame); the rest hangs or sits anywhere
        if rng.random() < 0.7:
            bottom = int(rng.uniform(0.55, 1.05) * h)
        else:
            bottom = int(rng.uniform(ph, h + ph * 0.2))
        y = bottom - ph
        region = pixels[max(0, y):max(1, min(h, y + ph)), max(0, x):max(1, min(w, x + pw))]
        around = region.reshape(-1, 3).mean(axis=0) if region.size else pixels.reshape(-1, 3).mean(axis=0)
        lit = _light(sized, around, rng)
        canvas.paste(lit, (x, y), lit)
        boxes.append((max(0, x), max(0, y), min(w, x + pw), min(h, y + ph)))
    return Composite(canvas, boxes)


__all__ = ["Composite", "CompositeConfig", "compose", "cut_out"]
