"""Typed data passed between the pipeline stages.

catalog → :class:`Product` (+ :class:`RowError`) → images → embed → index → scene →
:class:`SceneAnalysis` → rank → :class:`Recommendation`.
Vectors are always float32, L2-normalised, shape ``(n, dim)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Physical size in inches, as far as the description tells it."""

    values: tuple[float, ...]  # as written: (height,) or (w, d, h) …
    unit: str = "in"

    def as_text(self) -> str:
        return "×".join(f"{v:g}" for v in self.values) + f" {self.unit}"


@dataclass(frozen=True, slots=True)
class ParsedDescription:
    """What the description normaliser extracts from terse wholesale text."""

    original: str
    text: str  # expanded, readable text that gets embedded
    category: str | None = None  # e.g. "vase", "figurine", "mirror"
    materials: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    dimensions: Dimensions | None = None
    set_size: int | None = None  # "S/2" → 2
    assorted: int | None = None  # "2/A", "3/ASST" → number of assorted designs


@dataclass(slots=True)
class Product:
    """One catalog row that passed validation."""

    id: str
    sku_id: str
    description: str
    image: str | None  # URL or local path resolved against the catalog's folder
    attributes: dict[str, Any] = field(default_factory=dict)  # every other column, as read
    row: int = 0  # 1-based data row number in the source file (header excluded)
    parsed: ParsedDescription | None = None
    #: further photos (packshots, lifestyle shots) from the ``images`` column, resolved like
    #: ``image``; also kept in ``attributes["images"]`` so that records return them
    images: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RowError:
    """A catalog row that was rejected, with the reason."""

    row: int
    id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class NamedColour:
    name: str
    hex: str
    share: float  # fraction of pixels (0..1)


@dataclass(slots=True)
class SceneEmbedding:
    """What a scene photo gives before any context text: the part worth caching."""

    vector: np.ndarray  # float32 (dim,), the photo's query vector
    regions: np.ndarray | None  # float32 (regions, appearance_dim), or None
    colours: list[NamedColour]
    #: float32 (windows, appearance_dim): dense feature-map windows (SceneConfig.regions="dense")
    windows: np.ndarray | None = None


#: ``SceneAnalysis.room_source``: room types guessed from text prompts, or read by a fitted model
ZERO_SHOT, FITTED = "zero-shot", "fitted"


@dataclass(slots=True)
class SceneAnalysis:
    room_type: dict[str, float]  # probabilities, sum to 1
    style: dict[str, float]
    palette: dict[str, float]
    colours: list[NamedColour]
    context: str | None
    vector: np.ndarray  # float32 (dim,), the query vector (scene, shifted by context)
    #: float32 (regions, appearance_dim): image-to-image vectors of the whole photo and its
    #: crops, when the encoder has an appearance space; None otherwise
    regions: np.ndarray | None = None
    #: float32 (windows, appearance_dim): dense windows that replace ``regions`` for matching
    #: product photos, when the scene config asks for them
    windows: np.ndarray | None = None
    #: how ``room_type`` was read: ZERO_SHOT (text prompts) or FITTED (a room model fitted on
    #: labelled scenes by ``scenefit fit``)
    room_source: str = "zero-shot"

    @property
    def looks(self) -> np.ndarray | None:
        """The vectors product photos are matched against: dense windows, else regions."""
        return self.windows if self.windows is not None else self.regions

    @property
    def top_room(self) -> str:
        """The most likely room type."""
        return max(self.room_type, key=self.room_type.get)

    @property
    def top_style(self) -> str:
        """The most likely style."""
        return max(self.style, key=self.style.get)
