"""Statistics against hand arithmetic and published worked examples: Wilson (Newcombe 1998, 81/263), the pooled
z-test (Agresti's aspirin table), Benjamini–Hochberg (their 1995 example), Welch's t-test (R's t.test examples:
Student's sleep data and 1:10 vs c(7:20, 200)) and the exact Poisson rate comparison (R's poisson.test example)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatmap.statistics.stats import (
    Z_95,
    benjamini_hochberg,
    mean_and_variance,
    min_attainable_p,
    normal_quantile,
    normal_sf,
    poisson_rate_tests,
    two_proportion_z_test,
    two_proportion_z_tests,
    welch_tests,
    wilson_intervals,
)


def wilson_interval(k: float, n: float) -> tuple[float, float]:
    """One band's interval, from the arrays' function."""
    low, high = wilson_intervals(k, n)
    return float(low), float(high)


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


def test_z_95_is_scipys_normal_quantile() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    expected = scipy_stats.norm.ppf(0.975)
    assert expected == Z_95


def test_wilson_matches_scipy_proportion_ci() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for k, n in ((81, 263), (0, 10), (10, 10), (3, 7), (999, 1000)):
        ci = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_benjamini_hochberg_rejects_as_the_step_up_rule() -> None:
    # The decision from scipy's adjusted p-values equals the 1995 step-up rule on random p-values (by hand here).
    rng = np.random.default_rng(7)
    for m in (1, 5, 40):
        p = np.concatenate([rng.uniform(0, 0.01, m // 3), rng.uniform(0, 1, m - m // 3)])
        ranked = np.sort(p)
        below = np.flatnonzero(ranked <= np.arange(1, m + 1) * 0.05 / m)
        k = below[-1] + 1 if below.size else 0
        rejected, _ = benjamini_hochberg(p, 0.05)
        assert int(rejected.sum()) == k and (p[rejected] <= (ranked[k - 1] if k else -1)).all()
    with pytest.raises(ValueError):
        benjamini_hochberg([0.01], 1.5)


# --- attention: Welch's t-test from sums ------------------------------------------------------------------

# Student (1908) / R's `sleep` data: extra hours of sleep with two drugs, ten patients each.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _sums(values: list[float]) -> tuple[float, float, int]:
    return float(sum(values)), float(sum(v * v for v in values)), len(values)


def test_welch_from_sums_sleep_example() -> None:
    """R's ?t.test example `t.test(extra ~ group, data = sleep)` prints "Welch Two Sample t-test ... t = -1.8608,
    df = 17.776, p-value = 0.07939" (means 0.75 and 2.33). The test runs from Σs, Σs², n only, as attention does:
    mean = Σs/n, variance = (Σs² − (Σs)²/n)/(n − 1). Group 1 is B here (t > 0 means B larger)."""
    mean_b, var_b = mean_and_variance(*_sums(SLEEP_1))
    mean_a, var_a = mean_and_variance(*_sums(SLEEP_2))
    assert float(mean_b) == pytest.approx(0.75) and float(mean_a) == pytest.approx(2.33)
    assert float(var_b) == pytest.approx(np.var(SLEEP_1, ddof=1))  # 3.200556
    result = welch_tests(mean_a, var_a, 10, mean_b, var_b, 10)
    assert float(result.t) == pytest.approx(-1.8608, abs=5e-5)
    assert float(result.df) == pytest.approx(17.776, abs=5e-4)
    assert float(result.p) == pytest.approx(0.07939, abs=5e-6)


def test_welch_from_sums_r_documentation_example() -> None:
    """R's ?t.test example `t.test(1:10, y = c(7:20, 200))`: "t = -1.6329, df = 14.165, p-value = 0.1245", a
    heavy outlier in the second sample (like one visitor who left a tab open on a band)."""
    x, y = list(map(float, range(1, 11))), [*map(float, range(7, 21)), 200.0]
    mean_b, var_b = mean_and_variance(*_sums(x))
    mean_a, var_a = mean_and_variance(*_sums(y))
    result = welch_tests(mean_a, var_a, len(y), mean_b, var_b, len(x))
    assert float(result.t) == pytest.approx(-1.6329, abs=5e-5)
    assert float(result.df) == pytest.approx(14.165, abs=5e-4)
    assert float(result.p) == pytest.approx(0.1245, abs=5e-5)
    # means 5.5 and 25.93333: the ratio B / A = 0.2121, its delta-method interval contains the point estimate
    assert float(result.ratio) == pytest.approx(5.5 / (389 / 15))
    assert float(result.ratio_low) < float(result.ratio) < float(result.ratio_high)


def test_welch_matches_scipy_on_raw_values_and_delta_method_by_hand() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a = rng.gamma(1.5, 2.0, 400)
    b = rng.gamma(1.5, 2.6, 300)
    mean_a, var_a = mean_and_variance(a.sum(), (a * a).sum(), a.size)
    mean_b, var_b = mean_and_variance(b.sum(), (b * b).sum(), b.size)
    result = welch_tests(mean_a, var_a, a.size, mean_b, var_b, b.size)
    raw = scipy_stats.ttest_ind(b, a, equal_var=False)
    assert float(result.t) == pytest.approx(raw.statistic) and float(result.p) == pytest.approx(raw.pvalue)
    assert float(result.df) == pytest.approx(raw.df)
    # delta method: se(log ratio) = sqrt(var_a/(n_a·mean_a²) + var_b/(n_b·mean_b²)), interval ratio·exp(±1.96·se)
    se = math.sqrt(a.var(ddof=1) / (a.size * a.mean() ** 2) + b.var(ddof=1) / (b.size * b.mean() ** 2))
    ratio = b.mean() / a.mean()
    assert float(result.ratio_low) == pytest.approx(ratio * math.exp(-Z_95 * se))
    assert float(result.ratio_high) == pytest.approx(ratio * math.exp(Z_95 * se))


def test_variance_from_sums_clamps_rounding_and_untestable_cases() -> None:
    # ten views of 3.3 s each: Σs² − (Σs)²/n = 108.9 − 108.9 comes out as −1.4e-14 in floating point: clamped to 0
    assert 10 * 3.3**2 - (10 * 3.3) ** 2 / 10 < 0
    mean, var = mean_and_variance(10 * 3.3, 10 * 3.3**2, 10)
    assert float(mean) == pytest.approx(3.3) and float(var) == 0.0
    assert np.isnan(mean_and_variance(5.0, 25.0, 1)[1])  # n = 1: no variance
    result = welch_tests([1.0, 1.0, 2.0], [0.0, 1.0, 1.0], [10, 1, 10], [1.0, 2.0, 2.0], [0.0, 1.0, 1.0], [10, 10, 10])
    # no spread on either side -> untested; n = 1 -> untested; the third is a valid test of equal means
    assert np.isnan(result.p[0]) and np.isnan(result.p[1]) and result.p[2] == pytest.approx(1.0)


# --- clicks: two Poisson rates ----------------------------------------------------------------------------


def test_poisson_rates_r_documentation_example() -> None:
    """R's ?poisson.test example (eba1977, lung cancer in Fredericia vs three other Danish cities, ages 55–59):
    `poisson.test(c(11, 6+8+7), c(800, 1083+1050+878))` prints "Comparison of Poisson rates: count1 = 11, expected
    count1 = 6.7174, p-value = 0.07967 ... 95 percent confidence interval: 0.8584264 4.2772659 ... rate ratio
    1.971488". Here Fredericia is B (11 events in 800 person-years), the other cities A (21 in 3011)."""
    result = poisson_rate_tests(21, 3011, 11, 800)
    assert float(result.p) == pytest.approx(0.07967, abs=5e-6)
    assert float(result.ratio) == pytest.approx(1.971488, abs=5e-7)
    assert float(result.ratio_low) == pytest.approx(0.8584264, abs=5e-8)
    assert float(result.ratio_high) == pytest.approx(4.2772659, abs=5e-8)
    # expected count of B under the null: 32 · 800/3811 = 6.7174
    expected_count = 32 * 800 / 3811
    assert expected_count == pytest.approx(6.7174, abs=5e-5)
    # the same test from the other side: the p-value is symmetric, the ratio inverts
    other = poisson_rate_tests(11, 800, 21, 3011)
    assert float(other.p) == pytest.approx(float(result.p))
    assert float(other.ratio_low) == pytest.approx(1 / 4.2772659, rel=1e-6)


def test_poisson_rates_are_scipys_binomtest_and_clopper_pearson() -> None:
    """The exact conditional test (Przyborowski & Wilenski 1940): k_A | k ~ binomial(k, n_A/(n_A + n_B))."""
    scipy_stats = pytest.importorskip("scipy.stats")
    k_a, n_a, k_b, n_b = np.array([30, 4, 0, 7]), 1200, np.array([55, 0, 9, 7]), 900
    result = poisson_rate_tests(k_a, n_a, k_b, n_b)
    for i in range(4):
        exact = scipy_stats.binomtest(int(k_a[i]), int(k_a[i] + k_b[i]), n_a / (n_a + n_b))
        assert result.p[i] == pytest.approx(exact.pvalue)
        ci = exact.proportion_ci(confidence_level=0.95, method="exact")
        if k_a[i] > 0 and k_b[i] > 0:
            assert result.ratio_low[i] == pytest.approx((1 - ci.high) / ci.high * n_a / n_b)
            assert result.ratio_high[i] == pytest.approx((1 - ci.low) / ci.low * n_a / n_b)
    assert result.ratio[1] == 0.0 and result.ratio_low[1] == 0.0  # no clicks on B
    assert math.isinf(result.ratio[2]) and math.isinf(result.ratio_high[2])  # no clicks on A
    assert result.p[3] == pytest.approx(scipy_stats.binomtest(7, 14, 1200 / 2100).pvalue)
    nothing = poisson_rate_tests([0, 5], 100, [0, 5], 100, test=[True, False])
    assert np.isnan(nothing.p).all()  # no clicks at all; or masked out


def test_min_attainable_p_is_the_binomtest_at_the_extreme() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for k, n_a, n_b in ((1, 100, 100), (5, 100, 100), (6, 100, 100), (3, 900, 100), (12, 250, 700)):
        best = min(scipy_stats.binomtest(x, k, n_a / (n_a + n_b)).pvalue for x in (0, k))
        assert float(min_attainable_p(k, n_a, n_b)) == pytest.approx(best, rel=1e-6), (k, n_a, n_b)
    # equal exposures: 5 clicks can never be significant at 5 % (2·0.5^5 = 0.0625), 6 can (0.03125)
    assert float(min_attainable_p(5, 100, 100)) > 0.05 > float(min_attainable_p(6, 100, 100))
