"""The tests and intervals behind every comparison, on scipy.stats (docs/statistics.md):

- Wilson score intervals for scroll reach (vectorised; checked against scipy's `proportion_ci(method="wilson")`);
- the pooled two-proportion z-test (reach of a band in A vs B), p from the normal distribution;
- Welch's t-test from sums (attention: seconds per page view), `scipy.stats.ttest_ind_from_stats` with
  `equal_var=False`, plus the ratio of the means with a delta-method interval on the log scale;
- the exact conditional test of two Poisson rates (clicks per page view): `scipy.stats.binomtest` of k_A in
  k_A + k_B trials with p = n_A / (n_A + n_B), and the rate ratio's exact (Clopper–Pearson) interval;
- Benjamini–Hochberg (`scipy.stats.false_discovery_control`), with untested hypotheses left out of m;
- exact (Garwood) Poisson intervals for click counts (`scipy.stats.chi2`).

scipy is imported on first use, so `python -m heatmap bands` and the app's first page do not wait for it.

Attention from sums: the exports hold, per band, the page views that saw it, the seconds and the sum of each page
view's seconds squared (`hm_seconds_sq`). Over all N page views of a side (a view that never saw the band counts
0 s), mean = Σs / N and variance = (Σs² − (Σs)²/N) / (N − 1), which is all Welch's test needs. Dwell time is
heavy-tailed: the t-test of means stays valid for large N (central limit theorem), but a minimum number of page
views that saw the band is required on each side (configurable), and the effect is also given as a ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Z_95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), as a constant (tests check it) so Wilson needs no scipy
CONFIDENCE = 0.95


def _stats() -> Any:
    from scipy import stats

    return stats


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z (accurate in the far tail)."""
    return float(_stats().norm.sf(z))


def normal_quantile(p: float) -> float:
    """The z with P(Z <= z) = p."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile probability must be strictly between 0 and 1, got {p}")
    return float(_stats().norm.ppf(p))


def wilson_intervals(k: npt.ArrayLike, n: npt.ArrayLike, z: float = Z_95) -> tuple[FloatArray, FloatArray]:
    """Wilson score intervals for proportions k/n (Wilson 1927; Newcombe 1998, method 3): arrays (or scalars,
    broadcast) of successes and trials. n = 0 gives the whole range (0, 1), never NaN; k = 0 gives exactly 0 as
    the lower bound and k = n exactly 1 as the upper (set exactly: the formula reaches them only up to
    rounding); k outside [0, n] is clipped into it (callers clip reach the same way, metrics.band_table).

    scipy's `BinomTestResult.proportion_ci(method="wilson")` is the same interval for one band; a map needs
    hundreds at once, so the closed form is evaluated on arrays here (tests compare the two).
    """
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64))
    n_safe = np.where(n_arr > 0, n_arr, 1.0)
    k_clip = np.clip(k_arr, 0.0, n_safe)
    p = k_clip / n_safe
    z2 = z * z
    denom = 1.0 + z2 / n_safe
    centre = (p + z2 / (2.0 * n_safe)) / denom
    half = (z / denom) * np.sqrt(p * (1.0 - p) / n_safe + z2 / (4.0 * n_safe * n_safe))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(k_clip <= 0, 0.0, low)
    high = np.where(k_clip >= n_safe, 1.0, high)
    empty = n_arr <= 0
    return np.where(empty, 0.0, low), np.where(empty, 1.0, high)


# --- reach: two proportions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZTest:
    z: float
    p: float  # two-sided


def two_proportion_z_test(k1: float, n1: float, k2: float, n2: float) -> ZTest:
    """Pooled two-proportion z-test of p1 = p2, two-sided. z > 0 means the second proportion is larger.

    When the test has no information — an empty group, or a pooled proportion of exactly 0 or 1 (both groups
    all-or-nothing alike) — it returns z = 0 and p = 1 rather than dividing by zero.
    """
    z, p = two_proportion_z_tests(np.array([k1]), np.array([n1]), np.array([k2]), np.array([n2]))
    return ZTest(float(z[0]), float(p[0]))


def two_proportion_z_tests(
    k1: npt.ArrayLike, n1: npt.ArrayLike, k2: npt.ArrayLike, n2: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Vectorised pooled z-test; returns (z, two-sided p). Untestable entries get z = 0, p = 1."""
    k1a, n1a, k2a, n2a = (np.asarray(v, dtype=np.float64) for v in (k1, n1, k2, n2))
    k1a, n1a, k2a, n2a = np.broadcast_arrays(k1a, n1a, k2a, n2a)
    ok = (n1a > 0) & (n2a > 0)
    n1s, n2s = np.where(ok, n1a, 1.0), np.where(ok, n2a, 1.0)
    p1, p2 = np.clip(k1a, 0, n1s) / n1s, np.clip(k2a, 0, n2s) / n2s
    pooled = (p1 * n1s + p2 * n2s) / (n1s + n2s)
    var = pooled * (1.0 - pooled) * (1.0 / n1s + 1.0 / n2s)
    ok &= var > 0
    z = np.where(ok, (p2 - p1) / np.sqrt(np.where(ok, var, 1.0)), 0.0)
    p = 2.0 * _stats().norm.sf(np.abs(z)) if z.size else np.zeros(z.shape)
    return z, np.where(ok, np.asarray(p, dtype=np.float64), 1.0)


# --- attention: Welch's t-test from sums --------------------------------------------------------------------


def mean_and_variance(total: npt.ArrayLike, total_sq: npt.ArrayLike, n: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Mean Σs/N and sample variance (Σs² − (Σs)²/N)/(N − 1) of N values known only by their sums.

    Rounding can leave a tiny negative variance (all values equal); it is clamped at 0. N < 2: variance NaN.
    """
    s, q, n_arr = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (total, total_sq, n)))
    n_safe = np.where(n_arr > 0, n_arr, 1.0)
    mean = np.where(n_arr > 0, s / n_safe, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (q - s * s / n_safe) / np.where(n_arr > 1, n_arr - 1.0, 1.0)
    var = np.where(n_arr > 1, np.maximum(var, 0.0), np.nan)
    return mean, var


@dataclass(frozen=True)
class WelchTests:
    """Per comparison: B − A as Welch's t (t > 0: B larger), Welch–Satterthwaite df, two-sided p, and the ratio
    of means B / A with its delta-method interval (NaN where a mean is 0). NaN everywhere a test was not run."""

    t: FloatArray
    df: FloatArray
    p: FloatArray
    ratio: FloatArray
    ratio_low: FloatArray
    ratio_high: FloatArray


def welch_tests(
    mean_a: npt.ArrayLike,
    var_a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    mean_b: npt.ArrayLike,
    var_b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    confidence: float = CONFIDENCE,
) -> WelchTests:
    """Welch's unequal-variance t-test of mean_b = mean_a from summary statistics (scipy), vectorised.

    Entries with n < 2 on a side, a NaN input, or no variance on either side are not tested (NaN).
    The ratio interval: log(mean_b / mean_a) has variance ≈ var_a/(n_a·mean_a²) + var_b/(n_b·mean_b²) (delta
    method), so the interval is ratio · exp(± z · se) with z the normal quantile of `confidence`.
    """
    ma, va, na, mb, vb, nb = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (mean_a, var_a, n_a, mean_b, var_b, n_b))
    )
    finite = np.isfinite(ma) & np.isfinite(mb) & np.isfinite(va) & np.isfinite(vb)
    ok = finite & (na >= 2) & (nb >= 2) & ((va > 0) | (vb > 0))
    t = np.full(ma.shape, np.nan)
    p = np.full(ma.shape, np.nan)
    df = np.full(ma.shape, np.nan)
    if ok.any():
        result = _stats().ttest_ind_from_stats(
            mb[ok], np.sqrt(vb[ok]), nb[ok], ma[ok], np.sqrt(va[ok]), na[ok], equal_var=False
        )
        t[ok], p[ok] = result.statistic, result.pvalue
        ea, eb = va[ok] / na[ok], vb[ok] / nb[ok]
        df[ok] = (ea + eb) ** 2 / (ea**2 / (na[ok] - 1) + eb**2 / (nb[ok] - 1))
    ratio, low, high = (np.full(ma.shape, np.nan) for _ in range(3))
    positive = ok & (ma > 0) & (mb > 0)
    if positive.any():
        z = normal_quantile(0.5 + confidence / 2)
        r = mb[positive] / ma[positive]
        se = np.sqrt(
            va[positive] / (na[positive] * ma[positive] ** 2) + vb[positive] / (nb[positive] * mb[positive] ** 2)
        )
        ratio[positive], low[positive], high[positive] = r, r * np.exp(-z * se), r * np.exp(z * se)
    return WelchTests(t=t, df=df, p=p, ratio=ratio, ratio_low=low, ratio_high=high)


# --- clicks: two Poisson rates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoissonTests:
    """Per comparison of k_A events in n_A exposures with k_B in n_B: the exact conditional two-sided p, and the
    rate ratio (k_B/n_B)/(k_A/n_A) with its exact interval (inf when k_A = 0). NaN where not tested."""

    p: FloatArray
    ratio: FloatArray
    ratio_low: FloatArray
    ratio_high: FloatArray


def min_attainable_p(k: npt.ArrayLike, n_a: npt.ArrayLike, n_b: npt.ArrayLike) -> FloatArray:
    """The smallest two-sided p-value the exact Poisson test can give with k events in total (Tarone 1990).

    Conditional on k the test is binomial(k, π) with π = n_A/(n_A+n_B); the least likely outcome is an extreme,
    all k on the side with the smaller π, with probability min(π, 1 − π)^k, and the two-sided p-value there is
    that probability (twice it when π = 1/2: both extremes). A test whose minimum exceeds the level can never
    be significant, so leaving it out of Benjamini–Hochberg's m loses nothing and gains power (Gilbert 2005).
    """
    k_arr, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (k, n_a, n_b)))
    total = np.where(a + b > 0, a + b, 1.0)
    pi = a / total
    smaller = np.minimum(pi, 1.0 - pi)
    ties = np.where(np.isclose(pi, 0.5, rtol=0.0, atol=1e-12), 2.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.minimum(ties * smaller**k_arr, 1.0), dtype=np.float64)


def poisson_rate_tests(
    k_a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    k_b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    test: npt.ArrayLike | None = None,
    confidence: float = CONFIDENCE,
) -> PoissonTests:
    """Exact conditional test of equal Poisson rates (Przyborowski & Wilenski 1940): given k = k_A + k_B, k_A is
    binomial(k, n_A/(n_A+n_B)) under the null; two-sided p from `scipy.stats.binomtest` (R's poisson.test with
    two samples is the same test). The ratio interval maps the Clopper–Pearson interval of the binomial
    proportion (scipy.stats.beta quantiles, as `binomtest(...).proportion_ci("exact")`) to the rate ratio.

    `test`: a mask of the entries to test (default: every entry with k > 0 and both exposures > 0).
    """
    ka, na, kb, nb = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (k_a, n_a, k_b, n_b)))
    k = ka + kb
    ok = (k > 0) & (na > 0) & (nb > 0)
    if test is not None:
        ok &= np.broadcast_to(np.asarray(test, dtype=bool), ok.shape)
    shape = ka.shape
    p, ratio, low, high = (np.full(shape, np.nan) for _ in range(4))
    if not ok.any():
        return PoissonTests(p=p, ratio=ratio, ratio_low=low, ratio_high=high)
    stats = _stats()
    index = np.flatnonzero(ok.ravel())
    flat = {name: arr.ravel()[index] for name, arr in (("ka", ka), ("na", na), ("kb", kb), ("nb", nb))}
    pvalues = [
        stats.binomtest(int(x), int(x + y), float(ea / (ea + eb))).pvalue
        for x, y, ea, eb in zip(flat["ka"], flat["kb"], flat["na"], flat["nb"], strict=True)
    ]
    p.ravel()[index] = pvalues
    # Clopper–Pearson interval of π = share of the events on side A, then ratio B/A = (1 − π)/π · n_A/n_B.
    alpha = 1.0 - confidence
    kk = flat["ka"] + flat["kb"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pi_low = np.where(flat["ka"] > 0, stats.beta.ppf(alpha / 2, flat["ka"], kk - flat["ka"] + 1), 0.0)
        pi_high = np.where(flat["kb"] > 0, stats.beta.ppf(1 - alpha / 2, flat["ka"] + 1, kk - flat["ka"]), 1.0)
        scale = flat["na"] / flat["nb"]
        ratio.ravel()[index] = np.where(flat["ka"] > 0, flat["kb"] / np.maximum(flat["ka"], 1) * scale, np.inf)
        low.ravel()[index] = (1.0 - pi_high) / pi_high * scale
        high.ravel()[index] = np.where(pi_low > 0, (1.0 - pi_low) / np.where(pi_low > 0, pi_low, 1.0) * scale, np.inf)
    return PoissonTests(p=p, ratio=ratio, ratio_low=low, ratio_high=high)


# --- multiple comparisons -----------------------------------------------------------------------------------


def benjamini_hochberg(pvalues: Sequence[float] | npt.ArrayLike, alpha: float = 0.05) -> tuple[BoolArray, FloatArray]:
    """Benjamini–Hochberg step-up procedure (1995) controlling the false discovery rate at `alpha`.

    Returns (rejected mask, BH-adjusted p-values), both in the input order; the adjusted values are
    `scipy.stats.false_discovery_control(p, method="bh")`, and a hypothesis is rejected when its adjusted p-value
    is at most `alpha` (the same decision as the step-up rule). NaN p-values mark hypotheses that were not
    tested: they are never rejected, their adjusted value is NaN, and they do not count in m.
    The procedure is valid for independent or positively dependent (PRDS) tests.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"the false discovery rate must be between 0 and 1, not {alpha}")
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    rejected = np.zeros(p.shape, dtype=bool)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    if tested.size == 0:
        return rejected, adjusted
    adjusted[tested] = _stats().false_discovery_control(np.clip(p[tested], 0.0, 1.0), method="bh")
    rejected[tested] = adjusted[tested] <= alpha
    return rejected, adjusted


def poisson_intervals(k: npt.ArrayLike, confidence: float = CONFIDENCE) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) intervals for Poisson counts k: χ²(α/2; 2k)/2 to χ²(1 − α/2; 2k + 2)/2, with 0 as the
    lower end for k = 0. Clicks on a region are counts, so their rate per page view gets this interval."""
    chi2 = _stats().chi2
    counts = np.asarray(k, dtype=np.float64)
    alpha = 1.0 - confidence
    low = np.where(counts > 0, chi2.ppf(alpha / 2, 2 * np.maximum(counts, 1)) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * counts + 2) / 2
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
