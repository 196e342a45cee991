"""Wilson intervals and the two-proportion test, against scipy's own implementations."""

from __future__ import annotations

import pytest
from scipy import stats

from scenefit.feedback import Proportion, compare


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (45, 1000), (500, 1000)])
def test_wilson_interval_agrees_with_scipy(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert Proportion(k, n).interval() == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_no_trials_says_nothing():
    assert Proportion(0, 0).interval() == (0.0, 1.0) and compare(Proportion(0, 0), Proportion(3, 9)).p_value == 1.0


@pytest.mark.parametrize("a, b", [((30, 400), (52, 410)), ((5, 50), (5, 50)), ((120, 1000), (90, 1000)),
                                  ((0, 30), (4, 30))])
def test_two_proportion_test_agrees_with_the_chi_square_test(a, b):
    table = [[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]]
    expected = stats.chi2_contingency(table, correction=False).pvalue  # the same test: χ² = z²
    d = compare(Proportion(*a), Proportion(*b))
    assert d.p_value == pytest.approx(expected, rel=1e-6)
    assert d.diff == pytest.approx(b[0] / b[1] - a[0] / a[1])
    assert d.low <= d.diff <= d.high


def test_the_interval_of_a_difference_excludes_zero_when_the_test_rejects():
    d = compare(Proportion(50, 1000), Proportion(100, 1000))
    assert d.p_value < 0.05 and d.low > 0
    same = compare(Proportion(50, 1000), Proportion(55, 1000))
    assert same.p_value > 0.05 and same.low < 0 < same.high
