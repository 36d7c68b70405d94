"""Statistics against hand arithmetic and published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatmap.statistics.stats import (
    benjamini_hochberg,
    normal_quantile,
    normal_sf,
    two_proportion_z_test,
    two_proportion_z_tests,
    wilson_interval,
    wilson_intervals,
)


def test_wilson_no_data_is_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_k_zero_and_k_n_are_exact() -> None:
    # k = 0, n = 10, z = 1.96: upper = z^2/n / (1 + z^2/n) = 0.38416 / 1.38416 = 0.27754
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.38416 / 1.38416, abs=2e-5)
    # k = n = 10: mirror image, lower = 1 - 0.27754, upper exactly 1
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.38416 / 1.38416, abs=2e-5)


def test_wilson_textbook_value() -> None:
    # Newcombe (1998), Stat Med 17:857, Table II example 81/263: Wilson score interval 0.2553 to 0.3662.
    # By hand: p = 0.30798, z^2 = 3.8415, centre = (p + z^2/526) / (1 + z^2/263) = 0.31528/1.01461 = 0.31074,
    # half = (z/1.01461)·sqrt(p(1-p)/263 + z^2/(4·263^2)) = 1.93176·0.028651 = 0.05546 -> (0.2553, 0.3662)
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_vectorised_matches_scalar_and_clips_k() -> None:
    low, high = wilson_intervals(np.array([0, 5, 12]), 10)
    assert (low[0], high[2], low[2]) == (0.0, 1.0, wilson_interval(10, 10)[0])  # k = 12 > n is clipped to n
    assert (low[1], high[1]) == pytest.approx(wilson_interval(5, 10))


def test_two_proportion_textbook_case() -> None:
    # Physicians' Health Study, aspirin vs placebo and myocardial infarction: Agresti, An Introduction to
    # Categorical Data Analysis (2nd ed., 2007), Table 2.1 / §2.4: placebo 189/11034, aspirin 104/11037,
    # Pearson X^2 = 25.01 (the pooled z-test is its square root). By hand: p1 = .017129, p2 = .009423,
    # pooled = 293/22071 = .013275, se = sqrt(.013275·.986725·(1/11034 + 1/11037)) = .0015408,
    # z = (.009423 - .017129)/.0015408 = -5.001, z^2 = 25.01, two-sided p = erfc(5.001/sqrt 2) = 5.7e-7.
    result = two_proportion_z_test(189, 11034, 104, 11037)
    assert result.z == pytest.approx(-5.0014, abs=1e-3)
    assert result.z**2 == pytest.approx(25.01, abs=0.01)
    assert result.p == pytest.approx(5.69e-7, rel=1e-2)


def test_two_proportion_matches_scipy_chi_square() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    table = np.array([[30, 70], [45, 55]])
    chi2, p, _, _ = scipy_stats.chi2_contingency(table, correction=False)
    result = two_proportion_z_test(30, 100, 45, 100)
    assert result.z**2 == pytest.approx(chi2)
    assert result.p == pytest.approx(p)


def test_two_proportion_without_information() -> None:
    assert two_proportion_z_test(0, 0, 5, 10) == two_proportion_z_test(10, 10, 20, 20)
    assert two_proportion_z_test(0, 50, 0, 60).p == 1.0
    z, p = two_proportion_z_tests([5, 0], [10, 0], [8, 3], [10, 9])
    assert z[1] == 0.0 and p[1] == 1.0 and p[0] < 1.0


BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
           0.7590, 1.000]  # fmt: skip


def test_benjamini_hochberg_published_example() -> None:
    # Benjamini & Hochberg (1995), JRSS B 57:289, §4 example: 15 p-values, q = 0.05 -> the 4 smallest rejected.
    # Thresholds i·0.05/15: i=4 -> 0.01333 >= 0.0095 (reject); i=5 -> 0.01667 < 0.0201, and every larger i fails
    # too (i=9: 0.03 < 0.0459), so k = 4.
    rejected, adjusted = benjamini_hochberg(BH_1995, 0.05)
    assert rejected.tolist() == [True] * 4 + [False] * 11
    # adjusted p_(i) = min_{j>=i} p_(j)·15/j: p_(1) = min(.0015, .003, .007125, .035625, ...) = 0.0015
    # p_(4) = .0095·15/4 = .035625; p_(6) = min(.0278·15/6 = .0695, .0298·15/7 = .063857) = .063857
    assert adjusted[0] == pytest.approx(0.0015)
    assert adjusted[3] == pytest.approx(0.035625)
    assert adjusted[5] == pytest.approx(0.0298 * 15 / 7)
    assert adjusted[14] == 1.0


def test_benjamini_hochberg_order_and_untested() -> None:
    shuffled = [BH_1995[i] for i in (14, 3, 0, 9, 1, 2)] + [math.nan]
    rejected, adjusted = benjamini_hochberg(shuffled, 0.05)
    # m = 6 tested: sorted .0001,.0004,.0019,.0095,.324,1; thresholds i·.05/6: .0333 at i=4 >= .0095 -> 4 rejected
    assert rejected.tolist() == [False, True, True, False, True, True, False]
    assert math.isnan(adjusted[-1])
    assert benjamini_hochberg([])[0].size == 0


def test_normal_helpers() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959963985, abs=1e-9)
    assert normal_sf(1.959963985) == pytest.approx(0.025, abs=1e-10)
    assert normal_sf(10.0) == pytest.approx(7.6198530241604696e-24, rel=1e-9)  # erfc keeps the tail
