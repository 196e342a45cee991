"""Ranking metrics over binary relevance, at a cut-off K."""

from __future__ import annotations

import math
from typing import Sequence

RECALL = "recall"
#: every metric, in the order reports list them
METRICS = (RECALL, "ndcg", "hit_rate", "mrr")


def ranking_metrics(ranked: Sequence[str], relevant: frozenset[str] | set[str], k: int) -> dict[str, float]:
    """Recall@K, nDCG@K (binary gains), HitRate@K and MRR@K (reciprocal rank of the first
    relevant item within the top K, 0 if none) for one ranked list."""
    top = list(ranked)[:k]
    if not relevant:
        return {m: 0.0 for m in METRICS}
    hits = [i for i, pid in enumerate(top) if pid in relevant]
    dcg = sum(1.0 / math.log2(i + 2) for i in hits)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return {
        RECALL: len(hits) / len(relevant),
        "ndcg": dcg / idcg,
        "hit_rate": 1.0 if hits else 0.0,
        "mrr": 1.0 / (hits[0] + 1) if hits else 0.0,
    }


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {m: 0.0 for m in METRICS}
    return {m: round(sum(r[m] for r in rows) / len(rows), 4) for m in METRICS}
