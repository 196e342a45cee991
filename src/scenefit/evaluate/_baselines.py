"""The baselines scenefit is measured against, on the same index and encoder: plain cosine
between the whole photo's vector and product vectors (no analysis, no re-ranking), and a
random ranking."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..embed import Encoder
from ..index import VectorIndex
from ._labels import LabelledScene
from ._runner import Method, MethodOutput


def cosine_method(index: VectorIndex, encoder: Encoder, k: int) -> Method:
    def method(image: Image.Image, scene: LabelledScene) -> MethodOutput:
        keys, _ = index.search(encoder.encode_images([image])[0], k)
        return MethodOutput([index.record(int(key)).id for key in keys])

    return method


def random_method(ids: list[str], k: int, rng: np.random.Generator) -> Method:
    """``k`` of ``ids`` drawn from ``rng`` per scene, in the order the scenes are ranked."""
    def method(image: Image.Image, scene: LabelledScene) -> MethodOutput:
        return MethodOutput([ids[i] for i in rng.permutation(len(ids))[:k]])

    return method
