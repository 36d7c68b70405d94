"""What a heatmap shows, computed from an already-selected canonical table (docs/statistics.md).

- page views n = events of band 0 (the top of the page is always seen);
- per band: page views that saw it, scroll reach with a 95 % Wilson interval, seconds per page view and the
  band's share of all attention;
- reach depths (75/50/25 %) and the average fold, in CSS px;
- the click grid: raw counts per (x %, y step) and a Gaussian-smoothed density; click areas (10 % of the width
  by one band) with their clicks per 1,000 page views and an exact Poisson interval;
- the low-data guard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from heatmap.contract import BAND_HEIGHT_PX, CLICK_Y_STEP_PX
from heatmap.errors import DataError
from heatmap.statistics.stats import poisson_intervals, wilson_intervals
from heatmap.table import ViewSums, seconds_sq_floor, view_sums

MIN_PAGE_VIEWS = 100
REGION_COLUMNS = 10  # click regions (areas) are 10 % of the page width by one band high
REACH_LEVELS: tuple[float, ...] = (0.75, 0.5, 0.25)
FOLD_LEVEL = 0.95
CLICK_COLUMNS = 100  # x is a whole percent of the document width, 0-99


class NotEnoughData(DataError):
    """Too few page views for a reliable map; the message says how many and what to do."""


def low_data_message(n: int, minimum: int = MIN_PAGE_VIEWS) -> str | None:
    """The sentence to show instead of a map when n is below the minimum, else None."""
    if n >= minimum:
        return None
    views = "page view" if n == 1 else "page views"
    return (
        f"Only {n:,} {views} for this selection; at least {minimum:,} are needed for a reliable map. "
        "Widen the date range or the segment."
    )


def check_enough(n: int, minimum: int = MIN_PAGE_VIEWS) -> None:
    """Raise NotEnoughData when n < minimum."""
    message = low_data_message(n, minimum)
    if message:
        raise NotEnoughData(message)


def _first_below(reach: npt.NDArray[np.float64], level: float) -> int:
    """Index of the first band whose reach is below `level`; len(reach) if none is."""
    below = np.flatnonzero(reach < level)
    return int(below[0]) if below.size else int(reach.size)


@dataclass(frozen=True)
class BandTable:
    """Per-band statistics of one selection. `bands` has one row per band 0..max band, gaps filled with 0."""

    page_views: int
    bands: pl.DataFrame  # band, top_px, page_views, reach, reach_low, reach_high, seconds, seconds_per_view,
    #                      attention_share, seconds_sq (Σ over page views of seconds², NaN where unknown),
    #                      sq_missing (export rows of the band without seconds²)
    band_height_px: int = BAND_HEIGHT_PX

    @property
    def band_count(self) -> int:
        return self.bands.height

    def column(self, name: str) -> npt.NDArray[np.float64]:
        return self.bands[name].to_numpy().astype(np.float64)

    @property
    def reach(self) -> npt.NDArray[np.float64]:
        return self.column("reach")

    @property
    def seconds_per_view(self) -> npt.NDArray[np.float64]:
        return self.column("seconds_per_view")

    @property
    def has_seconds_sq(self) -> bool:
        """Every band's seconds² is known (the exports sent `hm_seconds_sq`), so attention can be tested."""
        return self.band_count > 0 and int(self.bands["sq_missing"].sum()) == 0

    @property
    def total_seconds(self) -> float:
        return float(self.bands["seconds"].sum()) if self.band_count else 0.0

    @property
    def data_height_px(self) -> int:
        """Bottom of the deepest band any page view saw (CSS px); 0 with no dwell data."""
        seen = np.flatnonzero(self.column("page_views") > 0) if self.band_count else np.array([], dtype=np.int64)
        return int((seen[-1] + 1) * self.band_height_px) if seen.size else 0

    def reach_depth_px(self, level: float) -> int:
        """How far down (CSS px) at least `level` of the page views got, continuously from the top.

        Defined as the top edge of the first band whose reach is below `level` (= the bottom edge of the band
        above it). If no band falls below the level, the bottom of the measured page. Scanning from the top
        makes the answer well defined even if reach is not monotone (a jump link can skip bands).
        """
        return _first_below(self.reach, level) * self.band_height_px

    def reach_depths(self, levels: tuple[float, ...] = REACH_LEVELS) -> dict[float, int]:
        """The depths where reach falls below each level, for the levels it falls below: a line at the bottom
        of the page for "25 %" when a third of the page views got there would be false."""
        return {level: px for level in levels if (px := self.reach_depth_px(level)) < self.data_bottom_px}

    @property
    def data_bottom_px(self) -> int:
        """The bottom of the last band of the table (where `reach_depth_px` ends when no band is below)."""
        return self.band_count * self.band_height_px

    @property
    def fold_px(self) -> int:
        """Average fold estimate (CSS px): where reach starts to decline.

        A page view that never scrolls still sees its whole first screen, so reach stays ~1 down to the first
        screens' bottoms and then falls. The estimator is the top edge of the first band that fewer than 95 %
        of page views reached (the same rule as `reach_depth_px(0.95)`). With per-band counts only this is the
        fold of the shorter first screens rather than a mean viewport height; it is labelled "fold" on maps.
        """
        return self.reach_depth_px(FOLD_LEVEL)

    def to_json_dict(self) -> dict[str, Any]:
        """Exactly the CLI `bands` object (docs/cli.md), plus attention_share inside each band."""
        keys = ("band", "page_views", "reach", "reach_low", "reach_high", "seconds_per_view", "attention_share")
        rows = []
        for row in self.bands.select(keys).iter_rows(named=True):
            rows.append(
                {
                    "band": int(row["band"]),
                    "page_views": int(row["page_views"]),
                    **{key: float(row[key]) for key in keys[2:]},
                }
            )
        return {"page_views": int(self.page_views), "bands": rows}

    def to_csv(self) -> bytes:
        """bands.csv: one line per band, every column of `bands`, UTF-8, '\\n' line ends."""
        return self.bands.write_csv(line_terminator="\n").encode("utf-8")


def band_table(data: pl.DataFrame | ViewSums, band_height_px: int = BAND_HEIGHT_PX) -> BandTable:
    """Per-band statistics of a view: its engine sums, or selected canonical rows (click rows are ignored).

    Reach is page views of the band / n, clipped to at most 1: a band can show more views than band 0 when a
    band-0 event was lost (e.g. dwell rounded to 0 s, or GA thresholding); the clipped value is the honest
    upper bound and the Wilson interval uses the clipped count. With n = 0 every ratio is 0 and every interval
    (0, 1): nothing is known.
    """
    per_band = (data if isinstance(data, ViewSums) else view_sums(data)).dwell
    max_band = int(per_band["band"].max()) if per_band.height else -1  # type: ignore[arg-type]
    count = max(max_band + 1, 0)
    views = np.zeros(count, dtype=np.int64)
    seconds = np.zeros(count, dtype=np.float64)
    seconds_sq = np.zeros(count, dtype=np.float64)
    sq_missing = np.zeros(count, dtype=np.int64)
    if count:
        idx = per_band["band"].to_numpy().astype(np.int64)
        keep = idx >= 0
        views[idx[keep]] = per_band["events"].fill_null(0).to_numpy()[keep]
        seconds[idx[keep]] = per_band["seconds"].fill_null(0.0).to_numpy()[keep]
        if "seconds_sq" in per_band.columns:
            seconds_sq[idx[keep]] = per_band["seconds_sq"].fill_null(0.0).to_numpy()[keep]
            sq_missing[idx[keep]] = per_band["sq_missing"].fill_null(0).to_numpy()[keep]
        else:  # sums from an engine that does not carry seconds² yet
            sq_missing[idx[keep]] = 1
        # Less seconds² than the band's seconds can give (table.seconds_sq_floor): the variance is unknown.
        short = seconds_sq < seconds_sq_floor(seconds, views, np.maximum(views, 1))
        sq_missing[short & (seconds > 0)] = np.maximum(sq_missing[short & (seconds > 0)], 1)
    n = int(views[0]) if count else 0
    if n > 0:
        reach = np.minimum(views / n, 1.0)
        seconds_per_view = seconds / n
    else:
        reach = np.zeros(count)
        seconds_per_view = np.zeros(count)
    low, high = wilson_intervals(np.minimum(views, n), n)
    total = float(seconds.sum())
    share = seconds / total if total > 0 else np.zeros(count)
    bands = pl.DataFrame(
        {
            "band": np.arange(count, dtype=np.int32),
            "top_px": np.arange(count, dtype=np.int64) * band_height_px,
            "page_views": views,
            "reach": reach.astype(np.float64),
            "reach_low": low.astype(np.float64),
            "reach_high": high.astype(np.float64),
            "seconds": seconds,
            "seconds_per_view": seconds_per_view.astype(np.float64),
            "attention_share": share.astype(np.float64),
            "seconds_sq": pl.Series(np.where(sq_missing > 0, np.nan, seconds_sq)).fill_nan(None),
            "sq_missing": sq_missing,
        }
    )
    return BandTable(page_views=n, bands=bands, band_height_px=band_height_px)


# --- clicks ------------------------------------------------------------------------------------------------


def kernel_radius(sigma: float) -> int:
    """Cells a blur of `sigma` cells reaches on each side: the Gaussian truncated at 3 sigma (0: no blur)."""
    return max(1, math.ceil(3.0 * sigma)) if sigma > 0 else 0


def gaussian_smooth(grid: npt.ArrayLike, sigma_y: float, sigma_x: float) -> npt.NDArray[np.float64]:
    """Separable Gaussian blur with zero padding (mass near the edges leaks out rather than piling up)."""
    from scipy.ndimage import gaussian_filter1d

    values = np.asarray(grid, dtype=np.float64)
    for axis, sigma in ((0, sigma_y), (1, sigma_x)):
        if sigma > 0:
            values = gaussian_filter1d(values, sigma, axis=axis, mode="constant", radius=kernel_radius(sigma))
    return values


@dataclass(frozen=True)
class ClickGrid:
    """Raw click counts per cell: rows are y steps of `y_step_px` CSS px, columns are x percent 0-99."""

    counts: npt.NDArray[np.int64]
    page_views: int
    y_step_px: int = CLICK_Y_STEP_PX

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def data_height_px(self) -> int:
        rows = np.flatnonzero(self.counts.sum(axis=1) > 0)
        return int((rows[-1] + 1) * self.y_step_px) if rows.size else 0

    def per_thousand_views(self) -> npt.NDArray[np.float64]:
        """Clicks per 1,000 page views per cell (0 when n = 0): comparable across selections."""
        if self.page_views <= 0:
            return np.zeros(self.counts.shape)
        return np.asarray(self.counts, dtype=np.float64) * (1000.0 / self.page_views)

    def density(self, css_width: float, sigma_px: float = 24.0) -> npt.NDArray[np.float64]:
        """Smoothed clicks per 1,000 page views per cell; sigma is in CSS px on both axes.

        x cells are 1 % of the page width, so sigma_x in cells = sigma_px / (css_width / 100). The grid is
        extended downwards by the kernel's reach, so the blur below the last clicked row is not cut off
        (above row 0 and beyond the side edges is outside the page; that mass is dropped).
        """
        sigma_x = sigma_px / max(css_width / CLICK_COLUMNS, 1e-9)
        sigma_y = sigma_px / self.y_step_px
        extra = kernel_radius(sigma_y)
        values = np.pad(self.per_thousand_views(), ((0, extra), (0, 0)))
        return gaussian_smooth(values, sigma_y, sigma_x)

    def to_csv(self) -> bytes:
        """Non-zero cells only: x_percent, y_px (top of the cell), clicks."""
        ys, xs = np.nonzero(self.counts)
        cells = pl.DataFrame({"x_percent": xs, "y_px": ys * self.y_step_px, "clicks": self.counts[ys, xs]})
        return cells.write_csv(line_terminator="\n").encode("utf-8")


def cells_by_band(
    grid: ClickGrid | None, rows: int, band_height_px: int, columns: int, below_into_last: bool = False
) -> npt.NDArray[np.int64]:
    """Clicks per (band, column of `columns` across the width): a click row of y_step px belongs to the band its top
    edge falls in. Clicks below the last of `rows` bands are dropped, or with `below_into_last` counted in it."""
    out = np.zeros((rows, columns), dtype=np.int64)
    if grid is None or grid.counts.size == 0 or rows == 0:
        return out
    counts = grid.counts
    band_of_row = (np.arange(counts.shape[0]) * grid.y_step_px) // band_height_px
    if below_into_last:
        band_of_row = np.minimum(band_of_row, rows - 1)
    keep = band_of_row < rows
    column_of_x = np.arange(counts.shape[1]) * columns // counts.shape[1]
    per_band = np.zeros((rows, counts.shape[1]), dtype=np.int64)
    np.add.at(per_band, band_of_row[keep], counts[keep])
    np.add.at(out.T, column_of_x, per_band.T)
    return out


def region_counts(grid: ClickGrid | None, rows: int, band_height_px: int) -> npt.NDArray[np.int64]:
    """Clicks per (band, region column): the cells Compare tests."""
    return cells_by_band(grid, rows, band_height_px, REGION_COLUMNS)


def reached_bands(grid: ClickGrid | None, band_height_px: int) -> int:
    """The bands a click grid reaches into."""
    if grid is None or grid.counts.size == 0:
        return 0
    rows = np.flatnonzero(grid.counts.sum(axis=1) > 0)
    return int(rows[-1] * grid.y_step_px // band_height_px) + 1 if rows.size else 0


def click_areas(grid: ClickGrid, band_height_px: int = BAND_HEIGHT_PX) -> pl.DataFrame:
    """The areas with clicks, most clicked first: where on the page (top_px to bottom_px, x_from to x_to % of the
    width), clicks, their share of all clicks, and clicks per 1,000 page views with an exact 95 % Poisson
    interval (the rate a designer compares across pages and segments; NaN without page views)."""
    counts = region_counts(grid, reached_bands(grid, band_height_px), band_height_px)
    band, column = np.nonzero(counts)
    clicks = counts[band, column]
    low, high = poisson_intervals(clicks)
    per = 1000.0 / grid.page_views if grid.page_views > 0 else math.nan
    width = 100 // REGION_COLUMNS
    areas = pl.DataFrame(
        {
            "band": band.astype(np.int64),
            "top_px": band.astype(np.int64) * band_height_px,
            "bottom_px": (band.astype(np.int64) + 1) * band_height_px,
            "x_from": column.astype(np.int64) * width,
            "x_to": (column.astype(np.int64) + 1) * width,
            "clicks": clicks.astype(np.int64),
            "share": clicks / max(grid.total, 1),
            "per_1000": clicks * per,
            "per_1000_low": low * per,
            "per_1000_high": high * per,
        }
    )
    return areas.sort(["clicks", "band", "x_from"], descending=[True, False, False])


def click_grid(data: pl.DataFrame | ViewSums, page_views: int, y_step_px: int = CLICK_Y_STEP_PX) -> ClickGrid:
    """Click events per (x, y) cell of a view (engine sums or selected canonical rows); x outside 0-99 or
    y < 0 are ignored."""
    return cell_grid((data if isinstance(data, ViewSums) else view_sums(data)).clicks, page_views, y_step_px)


def cell_grid(cells: pl.DataFrame, page_views: int, y_step_px: int = CLICK_Y_STEP_PX) -> ClickGrid:
    """A ClickGrid from summed cells (y, x, events): a view's clicks, or its flagged clicks."""
    cells = cells.filter(pl.col("x").is_between(0, CLICK_COLUMNS - 1) & (pl.col("y") >= 0))
    height = int(cells["y"].max()) + 1 if cells.height else 0  # type: ignore[arg-type]
    counts = np.zeros((height, CLICK_COLUMNS), dtype=np.int64)
    if cells.height:
        np.add.at(
            counts,
            (cells["y"].to_numpy().astype(np.int64), cells["x"].to_numpy().astype(np.int64)),
            cells["events"].fill_null(0).to_numpy(),
        )
    return ClickGrid(counts=counts, page_views=page_views, y_step_px=y_step_px)
