"""Ranking: retrieve, re-rank by fit, diversify, filter and explain."""

from ._factors import COSINE, Factor
from ._filters import Filters
from ._priors import ROOMS, known_categories, room_affinity
from ._ranker import Pool, RankConfig, Ranker, RankWeights, Recommendation
from ._regions import RegionAdapter, pool_regions
from ._result import match_result

__all__ = [
    "COSINE", "Factor", "Filters", "Pool", "ROOMS", "RankConfig", "RankWeights", "Ranker", "Recommendation",
    "RegionAdapter", "known_categories", "match_result", "pool_regions", "room_affinity",
]
