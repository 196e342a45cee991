"""What an encoder can do beyond :class:`Encoder`, read once from the protocols it declares.

Callers (the scene analyser, ingest, the index writer) ask :class:`EncoderCapabilities` (or
:func:`appearance_of`) what an encoder supports, never the encoder's attributes: the answer is
a type check against the declared protocols, made where the encoder is taken into use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from ._base import AppearanceEncoder, DenseAppearanceEncoder, Encoder, Preparable


def appearance_of(encoder: Encoder) -> AppearanceEncoder | None:
    """The encoder as an :class:`AppearanceEncoder`, or None when it has no appearance space
    (an ``appearance_dim`` of 0 declares none)."""
    if isinstance(encoder, AppearanceEncoder) and encoder.appearance_dim > 0:
        return encoder
    return None


@dataclass(frozen=True)
class EncoderCapabilities:
    """One encoder and the capabilities it declares, each the encoder itself or None."""

    encoder: Encoder
    appearance: AppearanceEncoder | None
    dense: DenseAppearanceEncoder | None

    @classmethod
    def of(cls, encoder: Encoder) -> EncoderCapabilities:
        appearance = appearance_of(encoder)
        dense = appearance if isinstance(appearance, DenseAppearanceEncoder) else None
        return cls(encoder, appearance, dense)

    def prepare(self) -> None:
        """Build what the encoder's networks build on first use (nothing for an encoder
        without such a step): ingest calls this so serving never has to."""
        if isinstance(self.encoder, Preparable):
            self.encoder.prepare()

    @property
    def appearance_dim(self) -> int:
        """Size of the appearance space; 0: none (what an index manifest records)."""
        return self.appearance.appearance_dim if self.appearance is not None else 0

    @property
    def scene_model_id(self) -> str:
        """What makes scene (query) vectors: keys the scene cache, so a runtime whose scene
        vectors differ from its product vectors never shares cached scenes with one whose
        don't."""
        return self.dense.scene_model_id if self.dense is not None else self.encoder.model_id

    def encode_with_appearance(
        self, images: Sequence[Image.Image], *, vectors: Sequence[bool], appearance: Sequence[bool],
        scene: bool = False,
    ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Shared-space vectors for the images flagged in ``vectors`` and appearance vectors
        for those flagged in ``appearance`` (each a dict: image position → vector).

        A dense appearance encoder makes both from one pass over the images needing either;
        an appearance encoder is called once per kind; appearance flags are ignored without
        an appearance space. ``scene``: the images are views of a scene photo (a query).
        """
        need_vec = [i for i, f in enumerate(vectors) if f]
        need_app = [i for i, f in enumerate(appearance) if f] if self.appearance is not None else []
        if self.dense is not None and need_app:
            idx = sorted(set(need_vec) | set(need_app))
            vecs, looks = self.dense.encode_images_and_appearance([images[i] for i in idx], scene=scene)
            at = {i: j for j, i in enumerate(idx)}
            return {i: vecs[at[i]] for i in need_vec}, {i: looks[at[i]] for i in need_app}
        vecs = self.encoder.encode_images([images[i] for i in need_vec]) if need_vec else []
        looks = self.appearance.encode_appearance([images[i] for i in need_app]) if need_app else []
        return dict(zip(need_vec, vecs)), dict(zip(need_app, looks))
