"""The versioned JSON contract of a match result.

``scenefit match --json``, the HTTP API and the eval command all return this shape. Bump
``SCHEMA_VERSION`` (major for removals or renames, minor for additions) when it changes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = "1.1"


class ColourOut(BaseModel):
    name: str
    hex: str
    share: float = Field(description="Fraction of the photo's pixels")


class SceneOut(BaseModel):
    room_type: dict[str, float] = Field(description="Room type probabilities (sum to 1), best first")
    room_source: Literal["zero-shot", "fitted"] = Field(
        "zero-shot", description="zero-shot: guessed from text prompts (no room model fitted on labelled "
        "scenes); fitted: read by the room model `scenefit fit` saved")
    style: dict[str, float] = Field(description="Style probabilities (sum to 1), best first")
    palette: dict[str, float] = Field(description="Palette family probabilities (sum to 1), best first")
    colours: list[ColourOut] = Field(description="Dominant colours measured from the pixels")
    context: str | None = None


class RecommendationOut(BaseModel):
    rank: int
    id: str
    sku_id: str
    description: str
    score: float = Field(description="Weighted fit score in 0..1 (not a probability)")
    factors: dict[str, float] = Field(description="similarity, room, colour, style in 0..1, plus raw cosine")
    reason: str
    category: str | None = None
    image: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, description="Every other catalog column, as read")


class ModelOut(BaseModel):
    id: str
    backend: str
    dim: int


class IndexOut(BaseModel):
    path: str
    count: int
    generation: int
    catalog_hash: str | None
    updated_at: str


class MatchResult(BaseModel):
    schema_version: str = SCHEMA_VERSION
    scene: SceneOut
    recommendations: list[RecommendationOut]
    model: ModelOut
    index: IndexOut
    timings_ms: dict[str, float] = Field(default_factory=dict)
    match_id: str | None = Field(
        None, description="Id of this match in the feedback store: send it with POST /v1/feedback. "
        "Null when the match was not recorded (the library and the CLI do not record).")
    variant: str | None = Field(None, description="The experiment variant that ranked it; null when not recorded")
