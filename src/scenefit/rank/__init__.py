"""Ranking: retrieve, re-rank by fit, diversify, filter and explain."""

from ._filters import Filters
from ._priors import ROOMS, known_categories, room_affinity
from ._ranker import RankConfig, Ranker, RankWeights, Recommendation

__all__ = ["Filters", "ROOMS", "RankConfig", "RankWeights", "Ranker", "Recommendation", "known_categories", "room_affinity"]
