"""FAISS's share of a serving worker's cores."""

import faiss
import pytest

from scenefit.index import set_search_threads


def test_search_threads_follow_the_workers_share_and_refuse_none():
    before = faiss.omp_get_max_threads()
    try:
        set_search_threads(1)
        assert faiss.omp_get_max_threads() == 1
        set_search_threads(3)
        assert faiss.omp_get_max_threads() == 3
        with pytest.raises(ValueError, match="at least 1"):
            set_search_threads(0)
    finally:
        faiss.omp_set_num_threads(before)
