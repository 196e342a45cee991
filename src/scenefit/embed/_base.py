"""The encoder interface every backend implements, and the optional capabilities a backend
may declare on top of it (each a protocol, checked once by :mod:`._capabilities`)."""

from __future__ import annotations

from dataclasses import dataclass
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


@runtime_checkable
class AppearanceEncoder(Encoder, Protocol):
    """An encoder with a second, image-to-image space (``appearance_dim`` ≥ 1): for backends
    whose shared-space image vectors are weak at matching a product photo against part of a
    room photo. Rows are float32 and L2-normalised, like the shared space's."""

    appearance_dim: int

    def encode_appearance(self, images: Sequence[Image.Image]) -> np.ndarray: ...


#: A region of a photo as fractions of its width and height: (left, top, right, bottom).
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ScenePass:
    """What one pass over a whole scene photo gives (``DenseAppearanceEncoder.scene_pass``)."""

    #: (appearance_dim, h, w) per-cell statistics: what dense windows average
    feature_map: np.ndarray
    #: (len(boxes), dim) shared-space vectors of the boxes, as ``encode_images`` gives them
    vectors: np.ndarray
    #: (len(boxes), appearance_dim) appearance vectors of the boxes
    looks: np.ndarray


@runtime_checkable
class DenseAppearanceEncoder(AppearanceEncoder, Protocol):
    """An appearance encoder built on one network's pooled feature statistics, which can
    therefore also give

    - both kinds of vector from one pass (``scene=True``: the images are views of a scene
      photo, a query, which the backend may run through a network of its own; what makes
      those vectors is ``scene_model_id``, equal to ``model_id`` when nothing differs);
    - a whole photo's per-cell statistics (``scene_feature_map``), whose means over any
      window ``appearance_vectors`` turns into vectors comparable with product photos
      (dense regional matching);
    - from that same pass, both kinds of vector for any boxes of the photo (``scene_pass``):
      a scene costs one pass whatever regions it is read through.
    """

    scene_model_id: str

    def encode_images_and_appearance(self, images: Sequence[Image.Image], *, scene: bool = False
                                     ) -> tuple[np.ndarray, np.ndarray]: ...

    def scene_feature_map(self, image: Image.Image, short_side: int) -> np.ndarray: ...

    def scene_pass(self, image: Image.Image, short_side: int, boxes: Sequence[Box]) -> ScenePass: ...

    def appearance_vectors(self, means: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Preparable(Protocol):
    """An encoder whose networks can be made ready ahead of the first query: whatever a
    runtime builds on first use (an exported graph) is built by ``prepare``, so the serving
    processes that come after only load it."""

    def prepare(self) -> None: ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32; rows of zeros stay zero (callers avoid them)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        n = float(np.linalg.norm(x))
        return x / n if n > 0 else x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
