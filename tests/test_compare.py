"""Comparing two selections: per-band z-tests with BH, descriptive attention, shared colour scales."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from PIL import Image

from heatmap.drawing.render import Caption, Display, render_map
from heatmap.query import select
from heatmap.statistics.compare import compare_bands, compare_selections, shared_ceiling, shared_display
from heatmap.statistics.metrics import band_table
from tests.exports import canonical_frame

D1, D2 = date(2025, 4, 1), date(2025, 4, 2)


def rows(day: date, device: str, views: list[int], seconds: list[float]) -> list[tuple]:
    return [
        (day, "/jobs", "dwell", b, None, None, device, v, s)
        for b, (v, s) in enumerate(zip(views, seconds, strict=True))
        if v
    ]


def frame(data: list[tuple]) -> pl.DataFrame:
    return canonical_frame(data, ("deviceCategory",))


A_ROWS = rows(D1, "desktop", [200, 160, 100, 0], [400.0, 320.0, 100.0, 0.0])
B_ROWS = rows(D2, "mobile", [200, 120, 96, 0], [600.0, 120.0, 96.0, 0.0])


def test_per_band_tests_and_bh() -> None:
    result = compare_bands(band_table(frame(A_ROWS)), band_table(frame(B_ROWS)))
    t = result.table
    assert t["band"].to_list() == [0, 1, 2]  # band 3 had no data on either side
    assert t["reach_diff"].to_list() == pytest.approx([0.0, 0.6 - 0.8, 0.48 - 0.5])
    # band 1: pooled 280/400 = .7, se = sqrt(.7·.3·(1/200 + 1/200)) = .045826, z = (.6 - .8)/.045826 = -4.3644
    # band 2: pooled 196/400 = .49, se = sqrt(.49·.51·.01) = .049990, z = (.48 - .5)/.04999 = -0.4001
    assert t["z"][1] == pytest.approx(-4.3644, abs=1e-4)
    assert t["z"][2] == pytest.approx(-0.4001, abs=1e-4)
    p1, p2 = math.erfc(4.3644 / math.sqrt(2)), math.erfc(0.4001 / math.sqrt(2))  # 1.27e-5, 0.689
    assert t["p"][1] == pytest.approx(p1, rel=1e-3) and t["p"][2] == pytest.approx(p2, rel=1e-3)
    # band 0 is not tested (reach 1 by definition): m = 2. BH: p_(1) = 1.27e-5 <= .05·1/2, p_(2) = .689 > .05
    assert math.isnan(t["p"][0]) and not t["significant"][0]
    assert result.significant.tolist() == [False, True, False]
    # adjusted: band 1 = min(1.27e-5·2/1, .689·2/2) = 2.54e-5; band 2 = .689
    assert t["p_adjusted"][1] == pytest.approx(2 * p1, rel=1e-3)
    assert t["p_adjusted"][2] == pytest.approx(p2, rel=1e-3)


def test_attention_is_descriptive() -> None:
    result = compare_bands(band_table(frame(A_ROWS)), band_table(frame(B_ROWS)))
    # A: 400/200 = 2.0, 320/200 = 1.6, 100/200 = .5; B: 600/200 = 3.0, 120/200 = .6, 96/200 = .48
    assert result.attention_diff.tolist() == pytest.approx([1.0, -1.0, -0.02])
    data = result.to_json_dict()
    assert data["attention"] == "descriptive"
    assert data["bands"][0]["p"] is None  # NaN is not JSON
    json.dumps(data, allow_nan=False)


def test_uneven_lengths_and_untestable_bands() -> None:
    a = band_table(frame(rows(D1, "desktop", [100, 100], [1.0, 1.0])))
    b = band_table(frame(rows(D1, "mobile", [100, 100, 50], [1.0, 1.0, 1.0])))
    result = compare_bands(a, b)
    assert result.table.height == 3
    # band 1: both 100 % -> pooled 1 -> untestable; band 2: 0/100 vs 50/100 -> tested and significant
    assert math.isnan(result.table["p"][1])
    assert result.significant.tolist() == [False, False, True]
    assert result.reach_diff.tolist() == [0.0, 0.0, 0.5]


def test_empty_side() -> None:
    a = band_table(frame([]))
    b = band_table(frame(B_ROWS))
    result = compare_bands(a, b)
    assert result.significant_count == 0 and all(math.isnan(p) for p in result.table["p"].to_list())


def test_two_periods_of_one_page() -> None:
    table = frame(A_ROWS + B_ROWS)
    first, second = select(table, "/jobs", D1, D1), select(table, "/jobs", D2, D2)
    result = compare_selections(first, second)
    assert (result.a.page_views, result.b.page_views) == (200, 200)
    assert result.significant.tolist() == [False, True, False]


def test_shared_scale() -> None:
    a, b = band_table(frame(A_ROWS)), band_table(frame(B_ROWS))
    # seconds per view: A 2.0 1.6 .5, B 3.0 .6 .48 -> one ceiling 3.0 for both
    assert shared_ceiling([a.seconds_per_view, b.seconds_per_view]) == 3.0
    display = shared_display(Display(kind="attention"), [a.seconds_per_view, b.seconds_per_view])
    assert (display.scale, display.ceiling) == ("fixed", 3.0)
    assert shared_display(Display(kind="reach"), [[1.0]]) == Display(kind="reach")
    # equal values get equal colours on both maps: A's band 0 (2.0 s) and a B-side band of 2.0 s
    white = Image.new("RGB", (20, 300), (255, 255, 255))
    caption = Caption("/jobs", "2025-04-01", "2025-04-02")
    left = np.asarray(render_map(white, display, caption, a).image)
    b2 = band_table(frame(rows(D2, "mobile", [200, 100], [400.0, 600.0])))  # 2.0 and 3.0 s per view
    right = np.asarray(render_map(white, display, caption, b2).image)
    assert left[50, 10].tolist() == right[50, 10].tolist()
    assert right[150, 10].tolist() != left[150, 10].tolist()
