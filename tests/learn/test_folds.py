import numpy as np
import pytest

from scenefit.learn import fold_count, kfold


@pytest.mark.parametrize("n, folds", [(10, 5), (7, 3), (3, 5), (1, 5), (12, 2)])
def test_folds_are_disjoint_and_cover_every_item(n, folds):
    splits = kfold(n, folds, seed=4)
    assert len(splits) == fold_count(n, folds) == max(2, min(folds, n))
    tests = np.concatenate([f.test for f in splits])
    assert sorted(tests.tolist()) == list(range(n))  # each item held out exactly once
    for f in splits:
        assert not set(f.test) & set(f.train) and sorted([*f.test, *f.train]) == list(range(n))
        assert list(f.test) == sorted(f.test) and list(f.train) == sorted(f.train)
        assert sorted(f.train_in_split_order()) == list(f.train)


def test_the_split_is_seeded():
    a, b, c = kfold(20, 4, seed=1), kfold(20, 4, seed=1), kfold(20, 4, seed=2)
    assert [f.test.tolist() for f in a] == [f.test.tolist() for f in b]
    assert [f.test.tolist() for f in a] != [f.test.tolist() for f in c]


def test_the_split_is_the_one_every_fit_used():
    """Item i of the seeded permutation goes to fold i mod folds: the split behind the saved
    figures of fit and eval --cv."""
    order = np.random.default_rng(3).permutation(11)
    for f, fold in enumerate(kfold(11, 3, seed=3)):
        assert fold.test.tolist() == sorted(order[f::3].tolist())
        assert fold.train_in_split_order().tolist() == [i for i in order if i not in set(order[f::3])]


def test_no_items_no_folds():
    assert kfold(0, 5) == []
