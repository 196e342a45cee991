"""Ranking: retrieve, re-rank by fit, diversify, filter and explain."""

from ._adapter import FILE as ADAPTER_FILE
from ._adapter import AdapterFitConfig, AdapterSample, AppearanceAdapter
from ..index import Filters  # the query-side type lives with the index, which takes it
from ..taxonomy import ROOMS  # re-exported: rank's callers pass room distributions over these
from ._priors import known_categories, room_affinity
from ._fit import FIT_FILE, FitSample, FittedRanking, fit_ranking
from ._ranker import Pool, RankConfig, Ranker, RankWeights, Recommendation

__all__ = ["ADAPTER_FILE", "AdapterFitConfig", "AdapterSample", "AppearanceAdapter", "FIT_FILE", "FitSample", "FittedRanking", "Pool", "fit_ranking", "Filters", "ROOMS", "RankConfig", "RankWeights", "Ranker", "Recommendation", "known_categories", "room_affinity"]
