"""Appearance vectors of every photo of a product: its primary image and its further ones.

Each photo's vector is cached by the photo's bytes (appearance depends on the photo alone),
so an ingest that changes nothing computes none, and a photo shared by products, or moved
from one list position to another, is computed once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .._errors import ImageError
from .._types import Product
from ..embed import EmbeddingCache, Encoder, appearance_of
from ..images import open_image

#: one usable photo of a product: (its bytes' hash, the local file, its catalog reference)
Photo = tuple[str, Path, str]
_CHUNK = 32  # photos decoded and encoded at once


def appearance_vectors(keep: Sequence[Product], photos: dict[str, list[Photo]], encoder: Encoder,
                       cache: EmbeddingCache, new: dict[str, np.ndarray],
                       failed: Callable[[Product, str, str], None]) -> dict[str, np.ndarray]:
    """Appearance per product id (products with a usable photo): one photo, its vector;
    several, a (photos, dim) array in ``photos`` order (the primary first). ``new``: vectors
    computed already (with the product vectors). A further photo that cannot be decoded is
    reported through ``failed(product, reference, error)`` and left out; the product keeps
    its other photos."""
    space = encoder.model_id + "|appearance"
    cache.put_many(space, new)
    paths = {sha: path for shown in photos.values() for sha, path, _ in shown}
    found = {**cache.get_many(space, set(paths) - set(new)), **new}
    todo = [(sha, path) for sha, path in paths.items() if sha not in found]
    appear = appearance_of(encoder)
    errors: dict[str, str] = {}
    for start in range(0, len(todo), _CHUNK):
        chunk, images = [], []
        for sha, path in todo[start : start + _CHUNK]:
            try:
                images.append(open_image(path))
                chunk.append(sha)
            except ImageError as exc:
                errors[sha] = str(exc)  # a primary was judged usable once: it just has no appearance
        if images:
            fresh = dict(zip(chunk, appear.encode_appearance(images)))
            cache.put_many(space, fresh)
            found.update(fresh)
    out = {}
    for p in keep:
        for sha, path, ref in photos[p.id]:
            if sha in errors and ref in p.images:
                failed(p, ref, errors[sha].replace(str(path), ref))  # a download's file is named by its URL
        looks = [found[sha] for sha, _, _ in photos[p.id] if sha in found]
        if looks:
            out[p.id] = looks[0] if len(looks) == 1 else np.stack(looks)
    return out
