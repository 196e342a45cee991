"""A ranking as the versioned match JSON (:class:`scenefit._schema.MatchResult`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .._schema import ColourOut, IndexOut, MatchResult, ModelOut, RecommendationOut, SceneOut
from .._types import SceneAnalysis
from ..index import VectorIndex
from ._ranker import Recommendation


def match_result(analysis: SceneAnalysis, recs: Sequence[Recommendation], index: VectorIndex,
                 index_dir: str | Path, timings_s: dict[str, float]) -> MatchResult:
    """The scene as analysed, the picks best first, and what produced them: the model, the
    index generation searched, and the seconds each stage took (reported in milliseconds)."""
    manifest = index.manifest
    return MatchResult(
        scene=SceneOut(
            room_type=analysis.room_type, room_source=analysis.room_source, style=analysis.style,
            palette=analysis.palette,
            colours=[ColourOut(name=c.name, hex=c.hex, share=c.share) for c in analysis.colours],
            context=analysis.context,
        ),
        recommendations=[_pick(i + 1, r) for i, r in enumerate(recs)],
        model=ModelOut(id=manifest.model_id, backend=manifest.encoder_backend, dim=manifest.dim),
        index=IndexOut(
            path=str(index_dir), count=len(index), generation=manifest.generation,
            catalog_hash=manifest.catalog_hash, updated_at=manifest.updated_at,
        ),
        timings_ms={name: round(seconds * 1000, 1) for name, seconds in timings_s.items()},
    )


def _pick(rank: int, rec: Recommendation) -> RecommendationOut:
    """A ranked pick: the product's catalog fields with its score and explanation."""
    r = rec.record
    return RecommendationOut(rank=rank, id=r.id, sku_id=r.sku_id, description=r.description, score=rec.score,
                             factors=rec.factors, reason=rec.reason, category=r.category, image=r.image,
                             attributes=r.attributes)
