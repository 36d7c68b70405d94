"""Small, dependency-free statistics: Wilson intervals, the pooled two-proportion z-test, Benjamini–Hochberg.

Only numpy and `math` are used (scipy is a development dependency, used in tests to cross-check).

What is *not* here, on purpose: a test for differences in attention (seconds per page view). The canonical
table holds, per band, only the number of page views that saw the band and the **sum** of their seconds; the
per-view spread of seconds is gone. Any test needs that variance. Assuming Poisson seconds (variance = mean) or
a fixed coefficient of variation would be inventing it, and dwell time is heavy-tailed, so such a test would
call noise significant. Attention differences are therefore reported as descriptive only (see compare.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Z_95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z, accurate in the tails (erfc, not 1 - cdf)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """The z with P(Z <= z) = p, by bisection on erfc (exact to ~1e-12; only used for a handful of levels)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile probability must be strictly between 0 and 1, got {p}")
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return 0.5 * (lo + hi)


def wilson_interval(k: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (Wilson 1927; Newcombe 1998, method 3).

    - n = 0: nothing is known, so the interval is the whole range (0.0, 1.0) — never NaN.
    - k = 0 gives exactly 0.0 as the lower bound and k = n exactly 1.0 as the upper bound (the formula
      reaches them only up to rounding, so they are set exactly).
    - k outside [0, n] is clipped into it (callers clip reach the same way, see metrics.band_table).
    """
    low, high = wilson_intervals(np.array([k], dtype=np.float64), np.array([n], dtype=np.float64), z)
    return float(low[0]), float(high[0])


def wilson_intervals(k: npt.ArrayLike, n: npt.ArrayLike, z: float = Z_95) -> tuple[FloatArray, FloatArray]:
    """Vectorised `wilson_interval`: arrays (or scalars, broadcast) of successes and trials."""
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
    p = np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in z.ravel()], dtype=np.float64).reshape(z.shape)
    return z, np.where(ok, p, 1.0)


def benjamini_hochberg(pvalues: Sequence[float] | npt.ArrayLike, alpha: float = 0.05) -> tuple[BoolArray, FloatArray]:
    """Benjamini–Hochberg step-up procedure (1995) controlling the false discovery rate at `alpha`.

    Returns (rejected mask, BH-adjusted p-values), both in the input order. NaN p-values mark hypotheses that
    were not tested: they are never rejected, their adjusted value is NaN, and they do not count in m.
    The procedure is valid for independent or positively dependent (PRDS) tests.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    rejected = np.zeros(p.shape, dtype=bool)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    if m == 0:
        return rejected, adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    ranked = p[order]
    ranks = np.arange(1, m + 1, dtype=np.float64)
    below = np.flatnonzero(ranked <= ranks * alpha / m)
    if below.size:
        rejected[order[: below[-1] + 1]] = True
    # adjusted p_(i) = min over j >= i of p_(j) * m / j, capped at 1
    scaled = ranked * m / ranks
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return rejected, adjusted
