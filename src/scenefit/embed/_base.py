"""The encoder interface every backend implements."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class Encoder(Protocol):
    """Maps images and texts into one vector space.

    Both methods return float32 arrays of shape ``(n, dim)`` with L2-normalised rows, so
    inner product is cosine similarity.
    """

    #: Identifies weights *and* the way vectors are made; an index built with one model id
    #: refuses queries from another.
    model_id: str
    dim: int
    #: Softmax temperature that turns this encoder's cosine similarities into zero-shot
    #: class probabilities (CLIP: its learned 1/logit_scale).
    similarity_temperature: float

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32; rows of zeros stay zero (callers avoid them)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        n = float(np.linalg.norm(x))
        return x / n if n > 0 else x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def encode_with_appearance(
    encoder: object, images: Sequence[Image.Image], *, vectors: Sequence[bool], appearance: Sequence[bool],
    scene: bool = False,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Shared-space vectors for the images flagged in ``vectors`` and appearance vectors for
    those flagged in ``appearance`` (each a dict: image position → vector).

    A backend that makes both from one model pass (``encode_images_and_appearance``) runs once
    over the images needing either; others are called once per kind. Appearance flags are
    ignored for an encoder without an appearance space. ``scene``: the images are views of
    a scene photo (a query), which a backend may encode faster (``encode_scene_views``).
    """
    appear = appearance_of(encoder)
    need_vec = [i for i, f in enumerate(vectors) if f]
    need_app = [i for i, f in enumerate(appearance) if f] if appear is not None else []
    both = (getattr(encoder, "encode_scene_views", None) if scene else None) or getattr(
        encoder, "encode_images_and_appearance", None)
    if callable(both) and need_app:
        idx = sorted(set(need_vec) | set(need_app))
        vecs, looks = both([images[i] for i in idx])
        at = {i: j for j, i in enumerate(idx)}
        return {i: vecs[at[i]] for i in need_vec}, {i: looks[at[i]] for i in need_app}
    vecs = encoder.encode_images([images[i] for i in need_vec]) if need_vec else []
    looks = appear([images[i] for i in need_app]) if need_app else []
    return dict(zip(need_vec, vecs)), dict(zip(need_app, looks))


def appearance_of(encoder: object):
    """The encoder's optional image-to-image ``encode_appearance`` method, or None.

    Backends whose image vectors are weak for matching a product photo against part of a
    room photo (the offline label bridge) add an appearance space for that; others don't.
    """
    fn = getattr(encoder, "encode_appearance", None)
    return fn if callable(fn) and getattr(encoder, "appearance_dim", 0) else None
