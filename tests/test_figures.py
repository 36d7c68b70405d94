"""The reach curve under the map: its traces and its depth marks, as the browser receives them (the figure's JSON)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import plotly.io as pio

from heatmap.statistics.metrics import BandTable, band_table
from heatmap.ui.figures import reach_curve
from tests.exports import canonical_frame

LABELS = {"x": "Depth (px)", "y": "Scroll reach (%)", "interval": "95 % interval"}


def bands_from(views: list[int]) -> BandTable:
    rows = [(date(2025, 3, 1), "/jobs", "dwell", b, None, None, v, float(v)) for b, v in enumerate(views) if v]
    return band_table(canonical_frame(rows, ()))


def sent(markers: list[tuple[float, str]]) -> dict[str, Any]:
    """The figure as Streamlit sends it: plain JSON, no Python objects."""
    return json.loads(pio.to_json(reach_curve(bands_from([100, 80, 60, 30]), LABELS, markers), validate=False))


def test_the_curve_is_reach_per_band_centre_with_its_interval_around_it() -> None:
    bands = bands_from([100, 80, 60, 30])
    interval, line = reach_curve(bands, LABELS).data
    centres = bands.bands["top_px"].to_numpy() + bands.band_height_px / 2
    np.testing.assert_array_equal(line.x, centres)
    np.testing.assert_array_equal(line.y, np.round(bands.reach * 100, 2))
    assert line.y[0] == 100.0 and line.y[-1] == 30.0  # 100 of 100 page views reach the top, 30 the last band
    assert interval.fill == "toself" and len(interval.x) == 2 * len(centres)
    low, high = bands.bands["reach_low"].to_numpy() * 100, bands.bands["reach_high"].to_numpy() * 100
    np.testing.assert_array_equal(interval.y, np.concatenate([high, low[::-1]]))
    layout = sent([])["layout"]
    assert layout["yaxis"]["range"] == [0, 101] and layout["showlegend"] is False
    assert layout["xaxis"]["title"]["text"] == LABELS["x"]


def test_each_depth_mark_is_a_dotted_line_over_the_whole_height_with_its_label_stepping_down() -> None:
    layout = sent([(900.0, "Fold"), (3000.0, "75%"), (6000.0, "50%")])["layout"]
    lines = layout["shapes"]
    assert [(s["x0"], s["x1"]) for s in lines] == [(900.0, 900.0), (3000.0, 3000.0), (6000.0, 6000.0)]
    for shape in lines:
        assert shape["type"] == "line" and shape["line"]["dash"] == "dot"
        assert (shape["y0"], shape["y1"], shape["yref"]) == (0, 1, "y domain")
    labels = layout["annotations"]
    assert [(a["x"], a["y"], a["text"]) for a in labels] == [
        (900.0, 96, "Fold"),
        (3000.0, 85, "75%"),
        (6000.0, 74, "50%"),
    ]
    assert all(a["showarrow"] is False and a["xanchor"] == "left" for a in labels)


def test_no_marks_no_lines() -> None:
    layout = sent([])["layout"]
    assert not layout.get("shapes") and not layout.get("annotations")
