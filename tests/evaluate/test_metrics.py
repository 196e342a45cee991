import math

import pytest

from scenefit.evaluate import mean_metrics, ranking_metrics


def test_hand_computed_example():
    ranked = ["a", "x", "b", "y", "z"]
    m = ranking_metrics(ranked, {"a", "b", "c", "d"}, k=5)
    assert m["recall"] == pytest.approx(2 / 4)
    assert m["hit_rate"] == 1.0
    assert m["mrr"] == 1.0
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = sum(1 / math.log2(i + 2) for i in range(4))
    assert m["ndcg"] == pytest.approx(dcg / idcg)


def test_cutoff_is_applied_and_first_hit_rank_counts():
    m = ranking_metrics(["x", "y", "a"], {"a"}, k=2)
    assert m == {"recall": 0.0, "ndcg": 0.0, "hit_rate": 0.0, "mrr": 0.0}
    m = ranking_metrics(["x", "y", "a"], {"a"}, k=3)
    assert m["mrr"] == pytest.approx(1 / 3) and m["recall"] == 1.0


def test_perfect_ranking_scores_one_even_with_more_relevant_than_k():
    rel = {str(i) for i in range(20)}
    m = ranking_metrics([str(i) for i in range(10)], rel, k=10)
    assert m["ndcg"] == pytest.approx(1.0) and m["recall"] == pytest.approx(0.5)


def test_no_relevant_items_and_means():
    assert ranking_metrics(["a"], set(), 10)["recall"] == 0.0
    rows = [{"recall": 1.0, "ndcg": 0.5, "hit_rate": 1.0, "mrr": 1.0},
            {"recall": 0.0, "ndcg": 0.0, "hit_rate": 0.0, "mrr": 0.0}]
    assert mean_metrics(rows) == {"recall": 0.5, "ndcg": 0.25, "hit_rate": 0.5, "mrr": 0.5}
    assert mean_metrics([])["recall"] == 0.0
