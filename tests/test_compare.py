"""Comparing two selections: reach z-tests, attention Welch tests, click Poisson tests, each with BH; shared scales."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from PIL import Image

from heatmap.drawing.render import Caption, Display, render_map, shared_ceiling, shared_display
from heatmap.statistics.compare import compare_bands
from heatmap.statistics.metrics import band_table, click_grid
from tests.exports import canonical_frame, select

D1, D2 = date(2025, 4, 1), date(2025, 4, 2)


def compare_selections(rows_a, rows_b):
    """Two selected canonical tables compared as the app compares two views."""
    a, b = band_table(rows_a), band_table(rows_b)
    return compare_bands(a, b, clicks_a=click_grid(rows_a, a.page_views), clicks_b=click_grid(rows_b, b.page_views))


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
    assert result.table["attention_diff"].to_list() == pytest.approx([1.0, -1.0, -0.02])
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
    assert result.table["reach_diff"].to_list() == [0.0, 0.0, 0.5]


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


# --- attention: tested when the exports carry seconds² ---------------------------------------------------


def views_to_rows(day: date, device: str, per_view: list[list[float]]) -> list[tuple]:
    """Canonical dwell rows (with seconds_sq) from each page view's seconds per band (0: the view did not see it)."""
    out = []
    for band in range(len(per_view[0])):
        seen = [v[band] for v in per_view if v[band] > 0 or band == 0]
        if seen:
            out.append(
                (day, "/jobs", "dwell", band, None, None, device, len(seen), sum(seen), sum(s * s for s in seen))
            )
    return out


def frame_sq(data: list[tuple]) -> pl.DataFrame:
    from heatmap.table import schema

    return pl.DataFrame(data, schema=schema(("deviceCategory",)), orient="row")


def simulated(seed: int, n: int, scale: float, reach: list[float]) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    views = []
    for _ in range(n):
        views.append([round(float(rng.gamma(1.5, scale)), 1) if rng.random() < r else 0.0 for r in reach])
        views[-1][0] = max(views[-1][0], 0.1)  # every page view sees band 0
    return views


def test_attention_welch_per_band_over_all_page_views() -> None:
    """Seconds per page view over all N views of a side (0 s for a view that never saw the band): the test on the
    sums equals scipy's Welch test on the per-view values, zeros included."""
    scipy_stats = pytest.importorskip("scipy.stats")
    reach = [1.0, 0.9, 0.6, 0.02]
    views_a = simulated(1, 400, 2.0, reach)
    views_b = simulated(2, 300, 2.8, reach)
    half = len(views_a) // 2  # A's rows come from two days: sums add up
    rows_a = views_to_rows(D1, "desktop", views_a[:half]) + views_to_rows(D2, "desktop", views_a[half:])
    result = compare_bands(band_table(frame_sq(rows_a)), band_table(frame_sq(views_to_rows(D1, "mobile", views_b))))
    t = result.table
    for band in (0, 1, 2):
        a = np.array([v[band] for v in views_a])
        b = np.array([v[band] for v in views_b])
        raw = scipy_stats.ttest_ind(b, a, equal_var=False)
        assert t["attention_t"][band] == pytest.approx(raw.statistic, rel=1e-6)
        assert t["attention_p"][band] == pytest.approx(raw.pvalue, rel=1e-6)
        assert t["attention_df"][band] == pytest.approx(raw.df, rel=1e-6)
        assert t["seconds_per_view_b"][band] == pytest.approx(b.mean())
        assert t["attention_ratio"][band] == pytest.approx(b.mean() / a.mean())
    # band 3: about 8 and 6 page views saw it, fewer than 30 on each side -> not tested
    assert math.isnan(t["attention_p"][3]) and t["attention_untested"][3] == "few_views"
    assert not t["attention_significant"][3]
    # one BH over the tested bands (m = 3): q are scipy's adjusted p-values of those three
    tested = t["attention_p"].to_numpy()[:3]
    assert t["attention_q"].to_numpy()[:3] == pytest.approx(scipy_stats.false_discovery_control(tested))
    assert result.attention_tested and result.family("attention").tested_count == 3
    data = result.to_json_dict()
    assert data["attention"] == "tested"
    json.dumps(data, allow_nan=False)


def test_attention_min_views_is_configurable() -> None:
    reach = [1.0, 0.05]
    a = band_table(frame_sq(views_to_rows(D1, "desktop", simulated(3, 400, 2.0, reach))))
    b = band_table(frame_sq(views_to_rows(D1, "mobile", simulated(4, 400, 2.0, reach))))
    assert math.isnan(compare_bands(a, b).table["attention_p"][1])  # ~20 views saw band 1 on each side
    assert not math.isnan(compare_bands(a, b, min_views=10).table["attention_p"][1])
    with pytest.raises(ValueError):
        compare_bands(a, b, min_views=1)


def test_attention_without_seconds_squared_stays_descriptive_and_says_why() -> None:
    result = compare_bands(band_table(frame(A_ROWS)), band_table(frame(B_ROWS)))
    assert not result.attention_tested and result.attention_note == "no_seconds_sq"
    assert set(result.table["attention_untested"].to_list()) == {"no_seconds_sq"}
    assert result.family("attention").significant_count == 0
    # an impossible seconds² (less than (Σs)²/k: a GA4 report that counted events of an old tag as 0) is unknown too
    rows = [(D1, "/jobs", "dwell", 0, None, None, "desktop", 100, 300.0, 0.0)]
    assert band_table(frame_sq(rows)).bands["sq_missing"][0] == 1
    rows = [(D1, "/jobs", "dwell", 0, None, None, "desktop", 100, 300.0, 900.0)]  # = 300²/100: all views 3 s
    assert band_table(frame_sq(rows)).has_seconds_sq


# --- clicks: exact Poisson rate tests per band and per 10 % × 100 px region -------------------------------


def click_rows(day: date, device: str, cells: dict[tuple[int, int], int], views: int) -> list[tuple]:
    rows = [(day, "/jobs", "dwell", 0, None, None, device, views, float(views), float(views))]
    rows += [(day, "/jobs", "click", None, x, y, device, k, 0.0, 0.0) for (x, y), k in cells.items()]
    return rows


def test_click_regions_and_bands_with_the_exact_poisson_test() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    # A: 1,000 page views; B: 500. A "Sign up" button at x 85 %, y 60 px (y step 3): A 60 clicks, B 5.
    # A "Search" button at x 50 %, y 360-380 px (band 3): A 100 clicks, B 52 (the same rate per view).
    # One stray click at x 5 %, y 2,000 px in A: 1 click can never be significant -> not tested.
    a_cells = {(85, 3): 60, (50, 18): 70, (51, 18): 30, (5, 100): 1}
    b_cells = {(85, 3): 5, (50, 18): 52}
    rows_a, rows_b = (
        frame_sq(click_rows(D1, "desktop", a_cells, 1000)),
        frame_sq(click_rows(D1, "mobile", b_cells, 500)),
    )
    result = compare_selections(rows_a, rows_b)
    regions = result.family("clicks")
    assert (regions.rows, regions.columns) == (21, 10)  # bands 0..20 (y 100 -> 2,000 px), 10 columns
    grid_p = regions.grid(regions.p)
    sign_up = scipy_stats.binomtest(60, 65, 1000 / 1500).pvalue
    search = scipy_stats.binomtest(100, 152, 1000 / 1500).pvalue
    assert grid_p[0, 8] == pytest.approx(sign_up) and grid_p[3, 5] == pytest.approx(search)
    assert np.isnan(grid_p[20, 0])  # the stray click
    assert regions.tested_count == 2
    significant = regions.significant.reshape(21, 10)
    assert significant[0, 8] and not significant[3, 5]
    assert regions.grid(regions.a)[0, 8] == pytest.approx(0.06) and regions.grid(regions.b)[0, 8] == pytest.approx(0.01)
    r = result.regions
    assert r is not None and r.height == 3
    sign_up_row = r.filter((pl.col("band") == 0) & (pl.col("column") == 8)).row(0, named=True)
    assert (sign_up_row["x_from"], sign_up_row["x_to"], sign_up_row["clicks_a"], sign_up_row["clicks_b"]) == (
        80,
        90,
        60,
        5,
    )
    assert sign_up_row["ratio"] == pytest.approx((5 / 500) / (60 / 1000))
    # per band (the table and the CLI): band 0 holds the Sign up clicks, band 3 the Search clicks
    bands = result.band_family("clicks")
    assert bands.p[0] == pytest.approx(sign_up) and bands.p[3] == pytest.approx(search)
    assert result.table["clicks_a"][3] == 100 and result.table["clicks_per_view_b"][3] == pytest.approx(52 / 500)


def test_cli_json_is_strict_and_has_the_contract_keys() -> None:
    rows_a = frame_sq(
        views_to_rows(D1, "desktop", simulated(5, 300, 2.0, [1.0, 0.8]))
        + click_rows(D1, "desktop", {(50, 2): 40}, 0)[1:]
    )
    rows_b = frame_sq(
        views_to_rows(D1, "mobile", simulated(6, 300, 3.0, [1.0, 0.8])) + click_rows(D1, "mobile", {(50, 2): 10}, 0)[1:]
    )
    result = compare_selections(rows_a, rows_b)
    for kind in ("attention", "reach", "clicks"):
        data = result.cli_json(kind)
        json.dumps(data, allow_nan=False)
        assert data["type"] == kind and (data["a_page_views"], data["b_page_views"]) == (300, 300)
        for band in data["bands"]:
            assert set(band) == {"band", "a", "b", "p", "q", "significant"}
    assert result.cli_json("reach")["bands"][0]["p"] is None  # band 0's reach is 1 by definition: untested
    assert result.cli_json("attention")["bands"][0]["significant"]  # 2.0 vs 3.0 s scale, 300 views each
    assert result.cli_json("clicks")["bands"][0]["a"] == pytest.approx(40 / 300)


def test_difference_hover_keeps_tiny_adjusted_p() -> None:
    from heatmap.ui.figures import difference_hover

    result = compare_bands(band_table(frame(A_ROWS)), band_table(frame(B_ROWS)))
    hover = difference_hover(result, "reach")
    # band 1: adjusted p 2·1.2747e-5 = 2.549e-5 (test_per_band_tests_and_bh) to 3 significant digits: 2.55e-5, not 0
    assert hover[1, 6] == 2.55e-5 and hover[1, 6] == float(f"{hover[1, 6]:.3g}")
    assert hover[1, 5] == pytest.approx(-20.0) and hover[1, 7] == 1.0  # B − A in points, significant
    assert hover[0, 6] == 1.0  # untested: adjusted p 1
