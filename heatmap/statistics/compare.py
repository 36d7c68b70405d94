"""Comparing two selections (two segments or two periods) band by band (DESIGN §6).

- Scroll reach: per band, the difference B − A, a pooled two-proportion z-test, and Benjamini–Hochberg at 5 %
  across the tested bands; only significant bands are coloured on the difference map.
  Band 0 is not tested (its reach is 1 by definition), nor is a band where both sides are all-or-nothing alike
  (pooled proportion 0 or 1: the test has no information); those get p = NaN and do not count in BH's m.
  Tests on different bands of one selection share page views and are positively dependent (reaching a deep
  band implies reaching the shallower ones), the case BH is proven for (PRDS).
  The two selections must not overlap (e.g. "all visitors" vs "mobile" shares the mobile page views); the
  z-test assumes independent samples.
- Attention (seconds per page view): the difference is **descriptive only**. The exports hold per-band sums,
  not per-view spread, so there is no honest variance for a test (see stats.py).
- Side-by-side maps share one colour ceiling so equal colours mean equal values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from heatmap.drawing.render import Display, resolve_ceiling
from heatmap.statistics.metrics import BandTable, band_table
from heatmap.statistics.stats import benjamini_hochberg, two_proportion_z_tests

FDR = 0.05


def _padded(values: npt.NDArray[Any], length: int) -> npt.NDArray[np.float64]:
    out = np.zeros(length, dtype=np.float64)
    out[: values.size] = values
    return out


@dataclass(frozen=True)
class Comparison:
    """Per-band comparison of selection A and selection B (differences are B − A)."""

    a: BandTable
    b: BandTable
    table: pl.DataFrame  # band, top_px, reach_a, reach_b, reach_diff, z, p, p_adjusted, significant,
    #                      seconds_per_view_a, seconds_per_view_b, attention_diff
    alpha: float = FDR

    @property
    def significant(self) -> npt.NDArray[np.bool_]:
        return self.table["significant"].to_numpy().astype(bool)

    @property
    def reach_diff(self) -> npt.NDArray[np.float64]:
        return self.table["reach_diff"].to_numpy().astype(np.float64)

    @property
    def attention_diff(self) -> npt.NDArray[np.float64]:
        return self.table["attention_diff"].to_numpy().astype(np.float64)

    @property
    def significant_count(self) -> int:
        return int(self.significant.sum())

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-safe: NaN (untested) becomes null."""

        def clean(value: Any) -> Any:
            return None if isinstance(value, float) and math.isnan(value) else value

        return {
            "page_views_a": self.a.page_views,
            "page_views_b": self.b.page_views,
            "fdr": self.alpha,
            "attention": "descriptive",
            "bands": [{k: clean(v) for k, v in row.items()} for row in self.table.iter_rows(named=True)],
        }


def compare_bands(a: BandTable, b: BandTable, alpha: float = FDR) -> Comparison:
    """Band-by-band comparison over bands 0..max of either side (a side's missing bands count as 0)."""
    count = max(a.band_count, b.band_count)
    height = a.band_height_px if a.band_count else b.band_height_px
    views_a = _padded(a.column("page_views"), count) if a.band_count else np.zeros(count)
    views_b = _padded(b.column("page_views"), count) if b.band_count else np.zeros(count)
    reach_a = _padded(a.reach, count) if a.band_count else np.zeros(count)
    reach_b = _padded(b.reach, count) if b.band_count else np.zeros(count)
    k_a, k_b = np.minimum(views_a, a.page_views), np.minimum(views_b, b.page_views)
    z, p = two_proportion_z_tests(k_a, a.page_views, k_b, b.page_views)
    pooled = (k_a + k_b) / max(a.page_views + b.page_views, 1)
    testable = (np.arange(count) > 0) & (a.page_views > 0) & (b.page_views > 0) & (pooled > 0) & (pooled < 1)
    p = np.where(testable, p, np.nan)
    z = np.where(testable, z, np.nan)
    rejected, adjusted = benjamini_hochberg(p, alpha)
    spv_a = _padded(a.seconds_per_view, count) if a.band_count else np.zeros(count)
    spv_b = _padded(b.seconds_per_view, count) if b.band_count else np.zeros(count)
    table = pl.DataFrame(
        {
            "band": np.arange(count, dtype=np.int32),
            "top_px": np.arange(count, dtype=np.int64) * height,
            "reach_a": reach_a,
            "reach_b": reach_b,
            "reach_diff": reach_b - reach_a,
            "z": z,
            "p": p,
            "p_adjusted": adjusted,
            "significant": rejected,
            "seconds_per_view_a": spv_a,
            "seconds_per_view_b": spv_b,
            "attention_diff": spv_b - spv_a,
        },
        nan_to_null=False,
    )
    return Comparison(a=a, b=b, table=table, alpha=alpha)


def compare_selections(rows_a: pl.DataFrame, rows_b: pl.DataFrame, alpha: float = FDR) -> Comparison:
    """Compare two already-selected canonical tables (two segments, or two periods of one page)."""
    return compare_bands(band_table(rows_a), band_table(rows_b), alpha)


def shared_ceiling(values: Sequence[npt.ArrayLike], mode: str = "max", ceiling: float | None = None) -> float:
    """One colour ceiling for several maps: the scale rule applied to all their values together."""
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    return resolve_ceiling(np.concatenate(arrays) if arrays else np.zeros(0), mode, ceiling)


def shared_display(display: Display, values: Sequence[npt.ArrayLike]) -> Display:
    """`display` with its scale pinned to the shared ceiling, for side-by-side maps (reach is already 0–100 %).

    For attention pass each side's seconds_per_view; for clicks each side's `ClickGrid.density(...)`.
    """
    if display.kind == "reach":
        return display
    vmax = shared_ceiling(values, display.scale, display.ceiling)
    if vmax <= 0:
        return display
    return replace(display, scale="fixed", ceiling=vmax)
