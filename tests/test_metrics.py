"""band_table, reach depths, fold, click grid and the low-data guard on small hand-built canonical tables."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import numpy as np
import polars as pl
import pytest

from heatmap.statistics.metrics import (
    NotEnoughData,
    band_table,
    check_enough,
    click_grid,
    gaussian_smooth,
    kernel_radius,
    low_data_message,
)
from heatmap.statistics.stats import wilson_intervals
from heatmap.table import empty
from tests.exports import canonical_frame

SEGMENTS = ("deviceCategory",)
D1, D2 = date(2025, 3, 1), date(2025, 3, 2)


def table(rows: list[tuple]) -> pl.DataFrame:
    """rows: (date, event, band, x, y, device, events, seconds) for page /jobs."""
    full = [(d, "/jobs", ev, b, x, y, dev, n, s) for d, ev, b, x, y, dev, n, s in rows]
    return canonical_frame(full, SEGMENTS)


SAMPLE = table(
    [
        (D1, "dwell", 0, None, None, "mobile", 120, 600.0),
        (D2, "dwell", 0, None, None, "desktop", 80, 200.0),
        (D1, "dwell", 1, None, None, "mobile", 100, 300.0),
        (D2, "dwell", 1, None, None, "desktop", 60, 100.0),
        # band 2 missing entirely
        (D1, "dwell", 3, None, None, "mobile", 50, 100.0),
        (D1, "click", None, 10, 4, "mobile", 7, 0.0),
        (D2, "click", None, 10, 4, "desktop", 3, 0.0),
        (D1, "click", None, 99, 0, "mobile", 1, 0.0),
    ]
)


def test_band_table_hand_computed() -> None:
    bt = band_table(SAMPLE)
    # n = band-0 events = 120 + 80 = 200
    assert bt.page_views == 200
    assert bt.bands["band"].to_list() == [0, 1, 2, 3]  # contiguous, band 2 filled with zeros
    assert bt.bands["top_px"].to_list() == [0, 100, 200, 300]
    assert bt.bands["page_views"].to_list() == [200, 160, 0, 50]
    # reach = views / 200 -> 1.0, 0.8, 0.0, 0.25
    assert bt.reach.tolist() == [1.0, 0.8, 0.0, 0.25]
    # seconds: 800, 400, 0, 100; per view /200 -> 4.0, 2.0, 0.0, 0.5; share of 1300 total
    assert bt.bands["seconds"].to_list() == [800.0, 400.0, 0.0, 100.0]
    assert bt.seconds_per_view.tolist() == [4.0, 2.0, 0.0, 0.5]
    assert bt.bands["attention_share"].to_list() == pytest.approx([800 / 1300, 400 / 1300, 0.0, 100 / 1300])
    assert bt.bands["reach_low"][1] == pytest.approx(float(wilson_intervals(160, 200)[0]))
    assert bt.bands["reach_high"][0] == 1.0
    assert bt.data_height_px == 400  # bottom of band 3


def test_json_dict_is_exactly_the_cli_shape() -> None:
    result = band_table(SAMPLE).to_json_dict()
    assert set(result) == {"page_views", "bands"}
    assert result["page_views"] == 200
    required = {"band", "page_views", "reach", "reach_low", "reach_high", "seconds_per_view"}
    for entry in result["bands"]:
        assert required <= set(entry) <= required | {"attention_share"}
        assert isinstance(entry["band"], int) and isinstance(entry["page_views"], int)
        assert all(type(entry[key]) is float for key in required - {"band", "page_views"})
    assert json.loads(json.dumps(result)) == result
    assert result["bands"][1] == {
        "band": 1,
        "page_views": 160,
        "reach": 0.8,
        "reach_low": pytest.approx(float(wilson_intervals(160, 200)[0])),
        "reach_high": pytest.approx(float(wilson_intervals(160, 200)[1])),
        "seconds_per_view": 2.0,
        "attention_share": pytest.approx(400 / 1300),
    }


def test_reach_clipped_when_a_band_outnumbers_band_zero() -> None:
    bt = band_table(
        table([(D1, "dwell", 0, None, None, "mobile", 10, 10.0), (D1, "dwell", 1, None, None, "mobile", 12, 6.0)])
    )
    assert bt.reach.tolist() == [1.0, 1.0]  # 12/10 clipped to 1
    assert bt.bands["reach_high"][1] == 1.0
    assert bt.seconds_per_view.tolist() == [1.0, 0.6]


def test_empty_and_no_band_zero() -> None:
    bt = band_table(empty(SEGMENTS))
    assert bt.page_views == 0 and bt.band_count == 0
    assert bt.to_json_dict() == {"page_views": 0, "bands": []}
    bt = band_table(table([(D1, "dwell", 2, None, None, "mobile", 5, 5.0)]))
    assert bt.page_views == 0
    assert bt.reach.tolist() == [0.0, 0.0, 0.0]
    assert bt.bands["reach_high"].to_list() == [1.0, 1.0, 1.0]


def depth_table(reach_percent: list[int]) -> pl.DataFrame:
    return table([(D1, "dwell", b, None, None, "mobile", r, float(r)) for b, r in enumerate(reach_percent)])


def test_reach_depths_and_fold() -> None:
    # n = 100; reach 1.00 .97 .94 .80 .74 .60 .49 .30 .24 .10
    bt = band_table(depth_table([100, 97, 94, 80, 74, 60, 49, 30, 24, 10]))
    # first band below .95 is band 2 -> fold 200 px; below .75: band 4 -> 400; below .5: band 6 -> 600;
    # below .25: band 8 -> 800
    assert bt.fold_px == 200
    assert bt.reach_depths() == {0.75: 400, 0.5: 600, 0.25: 800}
    # a level never reached from the top means the whole measured page: 10 bands -> 1000 px
    assert bt.reach_depth_px(0.05) == 1000
    assert bt.reach_depths((0.5, 0.05)) == {0.5: 600}  # no line for a level reach never falls below


def test_reach_depth_scans_from_the_top() -> None:
    # non-monotone: band 2 dips to .40 then band 3 is back at .60 -> the 50 % line is at band 2's top
    bt = band_table(depth_table([100, 90, 40, 60, 10]))
    assert bt.reach_depth_px(0.5) == 200


def test_bands_csv() -> None:
    rows = list(csv.reader(io.StringIO(band_table(SAMPLE).to_csv().decode())))
    assert rows[0] == [
        "band", "top_px", "page_views", "reach", "reach_low", "reach_high", "seconds", "seconds_per_view",
        "attention_share", "seconds_sq", "sq_missing",
    ]  # fmt: skip
    assert rows[2][:4] == ["1", "100", "160", "0.8"]
    assert rows[2][-2:] == ["", "2"]  # SAMPLE has no seconds²: unknown (empty), 2 rows of band 1 without it
    assert len(rows) == 5


def test_click_grid_counts() -> None:
    grid = click_grid(SAMPLE, page_views=200)
    assert grid.counts.shape == (5, 100)  # y 0..4
    assert grid.counts[4, 10] == 10  # 7 + 3 summed across segments and days
    assert grid.counts[0, 99] == 1
    assert grid.total == 11
    assert grid.data_height_px == 100  # y 4 -> rows of 20 px -> bottom at 100 px
    # clicks per 1,000 page views: 10 / 200 * 1000 = 50
    assert grid.per_thousand_views()[4, 10] == 50.0
    text = grid.to_csv().decode().splitlines()
    assert text[0] == "x_percent,y_px,clicks" and "10,80,10" in text


def test_gaussian_smoothing_preserves_mass_and_centre() -> None:
    assert kernel_radius(1.5) == 5 and kernel_radius(2.0) == 6 and kernel_radius(0) == 0
    assert np.array_equal(gaussian_smooth(np.eye(3), 0, 0), np.eye(3)), "sigma 0: no blur"
    grid = np.zeros((41, 41))
    grid[20, 20] = 1000.0
    smooth = gaussian_smooth(grid, 2.0, 3.0)
    assert smooth.sum() == pytest.approx(1000.0)  # nothing reaches the zero-padded edge
    assert np.unravel_index(smooth.argmax(), smooth.shape) == (20, 20)
    assert smooth[20, 26] > smooth[26, 20]  # wider along x (sigma 3) than along y (sigma 2)
    assert smooth[0, 0] == 0.0  # beyond 3 sigma the map stays empty


def test_click_density_extends_below_the_last_row() -> None:
    # one cell of 4 clicks at x 50 %, y row 10 (200-220 px); n = 100 -> 40 clicks per 1,000 page views
    grid = click_grid(table([(D1, "click", None, 50, 10, "mobile", 4, 0.0)]), page_views=100)
    density = grid.density(css_width=1000, sigma_px=40)  # sigma: 2 rows of 20 px, 4 columns of 10 px
    assert grid.counts.shape[0] == 11
    assert density.shape[0] == 11 + 6  # extended by the kernel radius ceil(3 * 2) = 6 rows
    assert density[16].sum() > 0  # the blur below the last clicked row is kept
    assert density.sum() == pytest.approx(40.0)  # and none of the mass is lost


def test_low_data_guard() -> None:
    assert low_data_message(100) is None
    check_enough(100)
    message = (
        "Only 42 page views for this selection; at least 100 are needed for a reliable map. "
        "Widen the date range or the segment."
    )
    assert low_data_message(42) == message
    with pytest.raises(NotEnoughData, match=r"^Only 42 page views"):
        check_enough(42)
    assert low_data_message(1, minimum=500) is not None and "1 page view " in low_data_message(1, minimum=500)


def test_poisson_intervals_are_the_published_exact_values() -> None:
    """Garwood's exact 95 % limits (e.g. Ulm 1990; Sahai & Khurshid 1993): 0 → 0–3.689, 1 → 0.0253–5.572,
    10 → 4.795–18.390."""
    from heatmap.statistics.stats import poisson_intervals

    low, high = poisson_intervals([0, 1, 10])
    assert low == pytest.approx([0.0, 0.02532, 4.7954], abs=5e-5)
    assert high == pytest.approx([3.6889, 5.5716, 18.3904], abs=5e-5)


def test_click_areas_by_hand() -> None:
    """Rows of 20 px: rows 0-4 are band 0, 5-9 band 1. Columns 0-9 % are area 0, 90-99 % area 9."""
    from heatmap.statistics.metrics import ClickGrid, click_areas

    counts = np.zeros((8, 100), dtype=np.int64)
    counts[0, 3] = 4  # band 0, area 0-10 %
    counts[4, 9] = 6  # band 0 (80 px), area 0-10 %: the same area, 10 clicks in all
    counts[5, 95] = 1  # band 1 (100 px), area 90-100 %
    counts[7, 50] = 5  # band 1, area 50-60 %
    areas = click_areas(ClickGrid(counts=counts, page_views=2000))
    assert areas.select("top_px", "bottom_px", "x_from", "x_to", "clicks").rows() == [
        (0, 100, 0, 10, 10), (100, 200, 50, 60, 5), (100, 200, 90, 100, 1),
    ]  # fmt: skip
    assert areas["share"].to_list() == pytest.approx([10 / 16, 5 / 16, 1 / 16])
    assert areas["per_1000"].to_list() == pytest.approx([5.0, 2.5, 0.5])  # clicks / 2,000 page views × 1,000
    first = areas.row(0, named=True)
    assert (first["per_1000_low"], first["per_1000_high"]) == pytest.approx((4.7954 / 2, 18.3904 / 2), abs=5e-5)
    nobody = click_areas(ClickGrid(counts=counts, page_views=0))
    assert nobody["per_1000"].is_nan().all() and nobody["clicks"].sum() == 16
    assert click_areas(ClickGrid(counts=np.zeros((0, 100), dtype=np.int64), page_views=10)).height == 0


def test_clicks_by_band_and_column_one_rule_for_compare_and_the_hover() -> None:
    from heatmap.statistics.metrics import ClickGrid, cells_by_band, region_counts
    from heatmap.ui.figures import click_cells

    counts = np.zeros((12, 100), dtype=np.int64)  # rows of 20 px: 240 px, bands of 100 px
    counts[0, 0] = 1  # band 0, x 0 %
    counts[4, 99] = 2  # y 80 px: band 0, x 99 %
    counts[5, 50] = 3  # y 100 px: band 1, x 50 %
    counts[11, 10] = 4  # y 220 px: band 2
    grid = ClickGrid(counts=counts, page_views=10)
    two = cells_by_band(grid, rows=2, band_height_px=100, columns=4)
    assert two.tolist() == [[1, 0, 0, 2], [0, 0, 3, 0]], "band 2 is past the two bands: dropped"
    assert cells_by_band(grid, 2, 100, 4, below_into_last=True)[1].tolist() == [4, 0, 3, 0]
    assert region_counts(grid, 3, 100).sum() == 10
    hover = click_cells(grid, band_count=2, band_height_px=100)
    assert hover.sum() == 10.0, "the hover shows every click"
