"""Ranking: retrieve, re-rank by fit, diversify, filter and explain."""

from ..index import Filters  # the query-side type lives with the index, which takes it
from ._factors import COSINE, Factor
from ._priors import known_categories, room_affinity
from ._ranker import TEXT_WEIGHTS, Pool, RankConfig, Ranker, RankWeights, Recommendation
from ._regions import RegionAdapter, pool_regions
from ._result import match_result

__all__ = [
    "COSINE", "Factor", "Filters", "Pool", "RankConfig", "RankWeights", "Ranker", "Recommendation", "TEXT_WEIGHTS",
    "RegionAdapter", "known_categories", "match_result", "pool_regions", "room_affinity",
]
