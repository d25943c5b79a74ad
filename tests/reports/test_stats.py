"""Wilson intervals at the edges (against statsmodels) and shared ranks."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from reports.recount import _wilson
from reports.stats import competition_ranks, wilson


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 7), (7, 7), (5, 7), (950, 1000), (1, 3)])
def test_wilson_matches_statsmodels_and_the_recount_formula(k, n):
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-12)
    assert _wilson(k, n) == pytest.approx((low, high), abs=1e-12)


def test_no_valid_answers_has_no_interval():
    assert wilson(0, 0) == (None, None) == _wilson(0, 0)


def test_ranks_are_shared_when_the_published_totals_are_equal():
    assert competition_ranks([90.0, 85.5, 85.5, 80.0]) == [1, 2, 2, 4]
    # 84.781 and 84.779 are both published as 84.78: one rank, not two
    assert competition_ranks([84.781, 84.779, 84.9]) == [2, 2, 1]
