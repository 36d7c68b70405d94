"""Comparing two selections (two segments or two periods) band by band and region by region (docs/statistics.md).

Every difference a map can show is tested, each kind with the test that fits how it is measured:

- **Scroll reach** (share of page views that saw a band): pooled two-proportion z-test per band. Band 0 is not
  tested (its reach is 1 by definition), nor is a band where both sides are all-or-nothing alike (pooled
  proportion 0 or 1: the test has no information).
- **Attention** (seconds per page view, over all N page views of a side; a view that never saw the band counts
  0 s): Welch's t-test per band from Σs, Σs² and N, plus the ratio of the means B / A with a 95 % delta-method
  interval (dwell time is heavy-tailed: the ratio says how big the difference is). A band is tested only when at
  least `min_views` page views saw it on each side (configurable, default 30) and every export row of it carries
  seconds² (`hm_seconds_sq`); exports from before the tag sent it keep their attention differences descriptive,
  and the comparison says why (`attention_untested`: no_seconds_sq, few_views, no_variance).
- **Clicks** (clicks per page view): the exact conditional test of two Poisson rates — given k_A + k_B clicks,
  k_A is binomial with p = n_A / (n_A + n_B) under equal rates — per band (clicks whose y falls in the band) and
  per region of the click grid: `REGION_COLUMNS` = 10 columns of 10 % of the page width × one band (100 CSS px)
  high, the size of a button or a card, coarse enough to hold clicks and fine enough to tell neighbours apart.
  A band or region whose smallest attainable p-value is above the level (too few clicks to ever be
  significant, Tarone 1990) is not tested and does not count in BH's m. Clicks are treated as independent
  events; repeated clicks by one visitor make the test somewhat optimistic.

One Benjamini–Hochberg correction (false discovery rate `alpha`, default 5 %, configurable) runs over each map's
family: reach bands, attention bands, click regions (the click-band table is a family of its own). Only
significant bands or regions are coloured on a difference map. NaN p-values mark untested units.

The two selections must not overlap (e.g. "all visitors" vs "mobile" shares the mobile page views): the tests
assume independent samples. Side-by-side maps share one colour ceiling so equal colours mean equal values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from heatmap.contract import BAND_HEIGHT_PX, MAP_KINDS
from heatmap.statistics.metrics import (
    REGION_COLUMNS,
    BandTable,
    ClickGrid,
    reached_bands,
    region_counts,
)
from heatmap.statistics.stats import (
    benjamini_hochberg,
    mean_and_variance,
    min_attainable_p,
    poisson_rate_tests,
    two_proportion_z_tests,
    welch_tests,
)

FDR = 0.05
MIN_BAND_VIEWS = 30  # attention: page views that saw a band, on each side, before it is tested
TESTS = {
    "reach": "two-proportion z-test",
    "attention": "Welch's t-test",
    "clicks": "exact Poisson rate test",
}
UNTESTED_REASONS = ("no_seconds_sq", "few_views", "no_variance")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _padded(values: npt.NDArray[Any], length: int) -> FloatArray:
    out = np.zeros(length, dtype=np.float64)
    out[: min(values.size, length)] = values[:length]
    return out


def _column(table: BandTable, name: str, length: int) -> FloatArray:
    return _padded(table.column(name), length) if table.band_count else np.zeros(length)


@dataclass(frozen=True)
class Family:
    """The tests one difference map colours, corrected together: per unit (a band, or a click region; arrays
    are rows × `columns`, row-major) the values of A and B, p (NaN: not tested), BH-adjusted q, significant."""

    kind: str
    unit: str  # "band" or "region"
    a: FloatArray
    b: FloatArray
    p: FloatArray
    q: FloatArray
    significant: BoolArray
    columns: int = 1
    page_views_a: int = 0
    page_views_b: int = 0
    alpha: float = FDR

    @property
    def test(self) -> str:
        return TESTS[self.kind]

    @property
    def diff(self) -> FloatArray:
        return self.b - self.a

    @property
    def rows(self) -> int:
        return self.a.size // self.columns if self.columns else 0

    @property
    def tested_count(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.p)))

    @property
    def significant_count(self) -> int:
        return int(self.significant.sum())

    def grid(self, values: npt.ArrayLike) -> FloatArray:
        """Values of this family as rows × columns."""
        return np.asarray(values, dtype=np.float64).reshape(self.rows, self.columns)


def _family(kind: str, unit: str, a: FloatArray, b: FloatArray, p: FloatArray, alpha: float, **extra: Any) -> Family:
    rejected, adjusted = benjamini_hochberg(p, alpha)
    return Family(kind, unit, a, b, p, adjusted, rejected, alpha=alpha, **extra)


@dataclass(frozen=True)
class Comparison:
    """Per-band (and per click region) comparison of selection A and selection B; differences are B − A."""

    a: BandTable
    b: BandTable
    table: pl.DataFrame  # per band, see `compare_bands`
    alpha: float = FDR
    min_views: int = MIN_BAND_VIEWS
    families: dict[str, Family] | None = None
    regions: pl.DataFrame | None = None  # non-empty click regions, see `compare_bands`

    @property
    def significant(self) -> BoolArray:
        """Bands whose scroll reach differs significantly."""
        return self.table["significant"].to_numpy().astype(bool)

    @property
    def significant_count(self) -> int:
        return int(self.significant.sum())

    @property
    def attention_tested(self) -> bool:
        return bool((~self.table["attention_p"].is_nan()).any()) if self.table.height else False

    @property
    def attention_note(self) -> str | None:
        """Why attention bands were left untested, as one of UNTESTED_REASONS (the commonest), or None."""
        reasons = [r for r in self.table["attention_untested"].to_list() if r]
        if not reasons:
            return None
        return max(UNTESTED_REASONS, key=reasons.count)

    def family(self, kind: str) -> Family:
        """The family a `kind` map colours: reach bands, attention bands, or click regions."""
        assert self.families is not None
        if kind not in MAP_KINDS:
            raise ValueError(f"unknown heatmap type {kind!r}; choose one of {', '.join(MAP_KINDS)}")
        return self.families["click_regions" if kind == "clicks" else kind]

    def band_family(self, kind: str) -> Family:
        """The per-band family of `kind` (for clicks: clicks per band, not regions)."""
        assert self.families is not None
        return self.families[kind]

    def regions_grid(self, name: str) -> FloatArray:
        """A column of `regions` as the dense rows × REGION_COLUMNS grid of the click family (NaN: no clicks)."""
        fam = self.family("clicks")
        out = np.full((fam.rows, fam.columns), np.nan)
        if self.regions is not None and self.regions.height:
            rows = self.regions["band"].to_numpy().astype(np.int64)
            cols = self.regions["column"].to_numpy().astype(np.int64)
            out[rows, cols] = self.regions[name].to_numpy().astype(np.float64)
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """Every per-band column, JSON-safe: NaN and ±inf (untested, undefined ratios) become null."""
        return {
            "page_views_a": self.a.page_views,
            "page_views_b": self.b.page_views,
            "fdr": self.alpha,
            "min_band_views": self.min_views,
            "attention": "tested" if self.attention_tested else "descriptive",
            "attention_note": self.attention_note,
            "bands": [{k: _clean(v) for k, v in row.items()} for row in self.table.iter_rows(named=True)],
        }

    def cli_json(self, kind: str) -> dict[str, Any]:
        """`python -m heatmap compare --json`: per band a, b (reach; seconds per page view; clicks per page view),
        p, BH-adjusted q and significance for the map's test; for attention and clicks the ratio B / A with its
        95 % interval; for clicks also the regions the difference map colours."""
        fam = self.band_family(kind)
        bands = [
            {
                "band": i,
                "a": float(fam.a[i]),
                "b": float(fam.b[i]),
                "p": _clean(float(fam.p[i])),
                "q": _clean(float(fam.q[i])),
                "significant": bool(fam.significant[i]),
            }
            for i in range(fam.a.size)
        ]
        out: dict[str, Any] = {
            "type": kind,
            "a_page_views": int(self.a.page_views),
            "b_page_views": int(self.b.page_views),
            "test": fam.test,
            "fdr": self.alpha,
            "tested": fam.tested_count,
            "significant": fam.significant_count,
            "bands": bands,
        }
        if kind == "attention":
            out["min_band_views"] = self.min_views
            out["note"] = self.attention_note
        if kind in ("attention", "clicks"):
            prefix = "attention" if kind == "attention" else "clicks"
            out["ratios"] = [
                {
                    "band": int(row["band"]),
                    "ratio": _clean(row[f"{prefix}_ratio"]),
                    "low": _clean(row[f"{prefix}_ratio_low"]),
                    "high": _clean(row[f"{prefix}_ratio_high"]),
                }
                for row in self.table.iter_rows(named=True)
            ]
        if kind == "clicks" and self.regions is not None:
            regions = self.family("clicks")
            out["region_significant"] = regions.significant_count
            out["regions"] = [
                {k: _clean(row[k]) for k in ("band", "x_from", "x_to", "a", "b", "p", "q", "significant")}
                for row in self.regions.iter_rows(named=True)
            ]
        return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _poisson_family(
    kind: str, unit: str, k_a: npt.NDArray[np.int64], k_b: npt.NDArray[np.int64], n_a: int, n_b: int, alpha: float,
    columns: int = 1,
) -> tuple[Family, Any]:  # fmt: skip
    ka, kb = k_a.ravel().astype(np.float64), k_b.ravel().astype(np.float64)
    possible = min_attainable_p(ka + kb, n_a, n_b) <= alpha  # Tarone: units that could never be significant
    tests = poisson_rate_tests(ka, n_a, kb, n_b, test=possible)
    per_a = ka / n_a if n_a > 0 else np.zeros_like(ka)
    per_b = kb / n_b if n_b > 0 else np.zeros_like(kb)
    fam = _family(kind, unit, per_a, per_b, tests.p, alpha, columns=columns, page_views_a=n_a, page_views_b=n_b)
    return fam, tests


def compare_bands(
    a: BandTable,
    b: BandTable,
    alpha: float = FDR,
    *,
    clicks_a: ClickGrid | None = None,
    clicks_b: ClickGrid | None = None,
    min_views: int = MIN_BAND_VIEWS,
) -> Comparison:
    """Band-by-band comparison over bands 0..max of either side (a side's missing bands count as 0).

    `table` has one row per band: band, top_px; reach_a, reach_b, reach_diff, z, p, p_adjusted, significant
    (reach); seconds_per_view_a, seconds_per_view_b, attention_diff, attention_ratio, attention_ratio_low,
    attention_ratio_high, attention_t, attention_df, attention_p, attention_q, attention_significant,
    attention_untested (a reason or ""); clicks_a, clicks_b, clicks_per_view_a, clicks_per_view_b, clicks_diff,
    clicks_ratio, clicks_ratio_low, clicks_ratio_high, clicks_p, clicks_q, clicks_significant.
    `regions` lists the click regions with clicks on either side: band, column, top_px, x_from, x_to (percent of
    the width), clicks_a, clicks_b, a, b (clicks per page view), diff, ratio, ratio_low, ratio_high, p, q,
    significant.
    """
    if min_views < 2:
        raise ValueError(f"the minimum page views per band must be at least 2, not {min_views}")
    height = a.band_height_px if a.band_count else b.band_height_px if b.band_count else BAND_HEIGHT_PX
    count = max(a.band_count, b.band_count, reached_bands(clicks_a, height), reached_bands(clicks_b, height))
    n_a, n_b = int(a.page_views), int(b.page_views)
    bands = np.arange(count)

    # Scroll reach: pooled two-proportion z-test.
    views_a, views_b = _column(a, "page_views", count), _column(b, "page_views", count)
    reach_a, reach_b = _column(a, "reach", count), _column(b, "reach", count)
    k_a, k_b = np.minimum(views_a, n_a), np.minimum(views_b, n_b)
    z, p = two_proportion_z_tests(k_a, n_a, k_b, n_b)
    pooled = (k_a + k_b) / max(n_a + n_b, 1)
    testable = (bands > 0) & (n_a > 0) & (n_b > 0) & (pooled > 0) & (pooled < 1)
    p = np.where(testable, p, np.nan)
    z = np.where(testable, z, np.nan)
    reach = _family("reach", "band", reach_a, reach_b, p, alpha, page_views_a=n_a, page_views_b=n_b)

    # Attention: Welch's t-test of seconds per page view over all page views of each side.
    mean_a, var_a = mean_and_variance(_column(a, "seconds", count), _sq(a, count), n_a)
    mean_b, var_b = mean_and_variance(_column(b, "seconds", count), _sq(b, count), n_b)
    spv_a, spv_b = _column(a, "seconds_per_view", count), _column(b, "seconds_per_view", count)
    no_sq = (_missing(a, count) > 0) | (_missing(b, count) > 0)
    few = (views_a < min_views) | (views_b < min_views)
    welch = welch_tests(mean_a, var_a, n_a, mean_b, var_b, n_b)
    no_variance = np.isnan(welch.p)
    attention_ok = ~no_sq & ~few & ~no_variance
    untested = np.where(no_sq, "no_seconds_sq", np.where(few, "few_views", np.where(no_variance, "no_variance", "")))
    attention_p = np.where(attention_ok, welch.p, np.nan)
    attention = _family("attention", "band", spv_a, spv_b, attention_p, alpha, page_views_a=n_a, page_views_b=n_b)
    keep = attention_ok.astype(bool)

    def tested_only(values: FloatArray) -> FloatArray:
        return np.where(keep, values, np.nan)

    # Clicks: exact Poisson rate tests per band and per region.
    cells_a = region_counts(clicks_a, count, height)
    cells_b = region_counts(clicks_b, count, height)
    click_bands, band_tests = _poisson_family(
        "clicks", "band", cells_a.sum(axis=1), cells_b.sum(axis=1), n_a, n_b, alpha
    )
    click_regions, region_tests = _poisson_family(
        "clicks", "region", cells_a, cells_b, n_a, n_b, alpha, columns=REGION_COLUMNS
    )

    table = pl.DataFrame(
        {
            "band": bands.astype(np.int32),
            "top_px": bands.astype(np.int64) * height,
            "reach_a": reach_a,
            "reach_b": reach_b,
            "reach_diff": reach_b - reach_a,
            "z": z,
            "p": reach.p,
            "p_adjusted": reach.q,
            "significant": reach.significant,
            "seconds_per_view_a": spv_a,
            "seconds_per_view_b": spv_b,
            "attention_diff": spv_b - spv_a,
            "attention_ratio": tested_only(welch.ratio),
            "attention_ratio_low": tested_only(welch.ratio_low),
            "attention_ratio_high": tested_only(welch.ratio_high),
            "attention_t": tested_only(welch.t),
            "attention_df": tested_only(welch.df),
            "attention_p": attention.p,
            "attention_q": attention.q,
            "attention_significant": attention.significant,
            "attention_untested": untested.astype(str),
            "clicks_a": cells_a.sum(axis=1),
            "clicks_b": cells_b.sum(axis=1),
            "clicks_per_view_a": click_bands.a,
            "clicks_per_view_b": click_bands.b,
            "clicks_diff": click_bands.diff,
            "clicks_ratio": band_tests.ratio,
            "clicks_ratio_low": band_tests.ratio_low,
            "clicks_ratio_high": band_tests.ratio_high,
            "clicks_p": click_bands.p,
            "clicks_q": click_bands.q,
            "clicks_significant": click_bands.significant,
        },
        nan_to_null=False,
    )
    flat_a, flat_b = cells_a.ravel(), cells_b.ravel()
    live = np.flatnonzero((flat_a + flat_b) > 0)
    band_of, column_of = live // REGION_COLUMNS, live % REGION_COLUMNS
    width = 100 // REGION_COLUMNS
    regions = pl.DataFrame(
        {
            "band": band_of.astype(np.int32),
            "column": column_of.astype(np.int32),
            "top_px": band_of.astype(np.int64) * height,
            "x_from": (column_of * width).astype(np.int32),
            "x_to": ((column_of + 1) * width).astype(np.int32),
            "clicks_a": flat_a[live],
            "clicks_b": flat_b[live],
            "a": click_regions.a[live],
            "b": click_regions.b[live],
            "diff": click_regions.diff[live],
            "ratio": region_tests.ratio[live],
            "ratio_low": region_tests.ratio_low[live],
            "ratio_high": region_tests.ratio_high[live],
            "p": click_regions.p[live],
            "q": click_regions.q[live],
            "significant": click_regions.significant[live],
        },
        nan_to_null=False,
    )
    families = {"reach": reach, "attention": attention, "clicks": click_bands, "click_regions": click_regions}
    return Comparison(a=a, b=b, table=table, alpha=alpha, min_views=min_views, families=families, regions=regions)


def _sq(table: BandTable, length: int) -> FloatArray:
    if not table.band_count or "seconds_sq" not in table.bands.columns:
        return np.zeros(length)
    return _padded(table.bands["seconds_sq"].fill_null(0.0).to_numpy().astype(np.float64), length)


def _missing(table: BandTable, length: int) -> FloatArray:
    """Rows without seconds² per band; a side with no data at all has nothing missing (its mean is 0, known)."""
    if not table.band_count:
        return np.zeros(length)
    if "sq_missing" not in table.bands.columns:
        return np.ones(length)
    return _padded(table.column("sq_missing"), length)
