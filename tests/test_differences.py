"""A comparison said plainly (heatmap.usecases.differences): only significant differences at least the minimum
effect, largest first, in points of reach or % of A, with one p-value format; hand-computed on small tables."""

from __future__ import annotations

import math

import pytest

from heatmap.statistics.compare import compare_bands
from heatmap.statistics.metrics import band_table
from heatmap.ui.compare_page import headline
from heatmap.ui.i18n import Translator
from heatmap.usecases.differences import differences, effect_of, p_text
from tests.test_compare import A_ROWS, B_ROWS, D1, D2, frame, rows


def test_reach_headline_from_the_hand_computed_comparison() -> None:
    # tests/test_compare.py: band 1 reach 0.8 -> 0.6 (z = -4.3644, BH-adjusted p = 2·1.27e-5), band 2 not significant
    result = compare_bands(band_table(frame(A_ROWS)), band_table(frame(B_ROWS)))
    (only,), smaller = differences(result, "reach")
    assert smaller == 0
    assert (only.top_px, only.bottom_px, only.x_from) == (100, 200, None)
    assert (only.a, only.b) == pytest.approx((80.0, 60.0))
    assert only.effect == pytest.approx(-20.0)  # points
    assert only.p == pytest.approx(2 * math.erfc(4.3644 / math.sqrt(2)), rel=1e-3)
    assert headline(Translator("en"), "reach", only) == (
        "**100–200 px**: B reaches it **20.0 points less** often than A (80.0 % vs 60.0 %), p < 0.001."
    )
    assert "20.0 ポイント少なく" in headline(Translator("ja"), "reach", only)
    # a minimum above 20 points leaves it out, and says how many were
    assert differences(result, "reach", min_effect=25.0) == ([], 1)


def test_largest_first_and_small_significant_ones_left_out() -> None:
    # 4,000 page views a side: band 1 reach 0.90 -> 0.88 (2 points) and band 2 0.50 -> 0.40 (10 points) are
    # both significant; with the default 2-point minimum both are listed, 10 points first; at 5 only band 2.
    a = rows(D1, "desktop", [4000, 3600, 2000], [4000.0, 3600.0, 2000.0])
    b = rows(D2, "mobile", [4000, 3520, 1600], [4000.0, 3520.0, 1600.0])
    result = compare_bands(band_table(frame(a)), band_table(frame(b)))
    assert result.significant.tolist() == [False, True, True]
    listed, smaller = differences(result, "reach")
    assert [d.top_px for d in listed] == [200, 100] and smaller == 0
    assert [round(d.effect, 6) for d in listed] == [-10.0, -2.0]
    assert differences(result, "reach", min_effect=5.0)[1] == 1


def test_attention_and_clicks_effects_are_relative_to_a() -> None:
    assert effect_of("attention", 2.0, 3.0) == pytest.approx(50.0)
    assert effect_of("clicks", 0.004, 0.003) == pytest.approx(-25.0)
    assert effect_of("clicks", 0.0, 0.002) == math.inf and effect_of("clicks", 0.0, 0.0) == 0.0
    assert effect_of("reach", 0.5, 0.61) == pytest.approx(11.0)


def test_one_p_value_format() -> None:
    assert [p_text(p) for p in (3e-9, 0.00099, 0.001, 0.0123, 0.35, math.nan)] == [
        "p < 0.001", "p < 0.001", "p = 0.001", "p = 0.012", "p = 0.350", "–",
    ]  # fmt: skip
