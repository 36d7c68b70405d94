"""Hover numbers and Plotly figures for the browser. Pure (plotly, numpy): no Streamlit here.

The map itself is shown by heatmap.ui.viewer; this module gives it the hover read-outs (per band: reach with its
interval, seconds per view, attention share; per click cell; per band or region of a difference map) as plain
number arrays with Plotly-style templates, and draws the reach curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from heatmap.statistics.metrics import BandTable, ClickGrid, cells_by_band
from heatmap.usecases.differences import SCALE

CLICK_HOVER_COLUMNS = 20  # hover cells 5 % wide, one band high


@dataclass(frozen=True)
class Placement:
    """Where things sit in figure units (CSS px of the displayed screenshot)."""

    css_width: float
    map_height: float  # height of the map part (the legend panel follows below it)
    total_height: float  # map + legend
    data_top: float  # figure y of the data's y = 0 (shift and crop applied)


def band_hover(bands: BandTable) -> npt.NDArray[np.float64]:
    """Per band: band, top px, bottom px, reach %, low %, high %, seconds per view, attention share %, views."""
    if bands.band_count == 0:
        return np.zeros((0, 9))
    b = bands.bands
    top = b["top_px"].to_numpy().astype(np.float64)
    columns = [
        b["band"].to_numpy().astype(np.float64),
        top,
        top + bands.band_height_px,
        b["reach"].to_numpy() * 100.0,
        b["reach_low"].to_numpy() * 100.0,
        b["reach_high"].to_numpy() * 100.0,
        b["seconds_per_view"].to_numpy(),
        b["attention_share"].to_numpy() * 100.0,
        b["page_views"].to_numpy().astype(np.float64),
    ]
    return np.round(np.stack(columns, axis=1), 2)


def hover_template(labels: Mapping[str, str], clicks: bool = False) -> str:
    """Plotly hovertemplate; labels hold translated sentences with plotly %{...} references already in them."""
    lines = [labels["band"], labels["reach"], *([labels["views"]] if "views" in labels else []), labels["seconds"]]
    lines.append(labels["share"])
    if clicks:
        lines = [labels["cell"], *lines]
    return "<br>".join(lines) + "<extra></extra>"


def hover_labels(t: object, n: int | None = None) -> dict[str, str]:
    """Translated hover lines with plotly placeholders (customdata columns as in `band_hover`); with the view's
    page views `n`, also how many of them saw the band."""
    from heatmap.ui.i18n import Translator

    assert isinstance(t, Translator)
    cd = "%{{customdata[{}]:{}}}".format
    views = {"views": t("map.hover_views", views=cd(8, ",.0f"), n=f"{n:,}")} if n is not None else {}
    return views | {
        "band": t("map.hover_band", band=cd(0, ".0f"), top=cd(1, ",.0f"), bottom=cd(2, ",.0f")),
        "reach": t("map.hover_reach", reach=cd(3, ".1f") + " %", low=cd(4, ".1f"), high=cd(5, ".1f") + " %"),
        "seconds": t("map.hover_seconds", seconds=cd(6, ".2f")),
        "share": t("map.hover_share", share=cd(7, ".1f") + " %"),
        "cell": t("map.hover_clicks", clicks=cd(9, ",.0f")) + f" · x {cd(10, '.0f')}–{cd(11, '.0f')} %",
    }


def click_hover(clicks: ClickGrid, bands: BandTable) -> npt.NDArray[np.float64]:
    """Per band × hover column: clicks, x from and x to (%), the customdata columns after `band_hover`'s."""
    cells = click_cells(clicks, bands.band_count, bands.band_height_px)
    step = 100 / CLICK_HOVER_COLUMNS
    left = np.broadcast_to(np.arange(CLICK_HOVER_COLUMNS) * step, cells.shape)
    return np.stack([cells, left, left + step], axis=2)


def difference_hover(comparison: Any, kind: str = "reach") -> npt.NDArray[np.float64]:
    """Hover read-outs of a difference map, per unit of the family `kind` draws (see compare.Comparison.family).

    Bands (reach, attention): rows × 11 — band, top, bottom, A, B, B − A, adjusted p, significant, ratio B / A,
    its 95 % low and high (reach in %, B − A in points; attention in seconds per page view).
    Click regions: rows × columns × 13 — the same (per 1,000 page views) plus the region's x from and to (%).
    Untested units show adjusted p 1 and ratios 0 (NaN cannot travel to the browser).
    """
    table = comparison.table
    if table.height == 0:
        return np.zeros((0, 11))
    family = comparison.family(kind)
    top = table["top_px"].to_numpy().astype(np.float64)
    height = float(top[1] - top[0]) if table.height > 1 else 100.0
    factor = SCALE[kind]
    names = ("ratio", "ratio_low", "ratio_high")
    ratio: list[npt.NDArray[np.float64]]
    if kind == "clicks":
        ratio = [comparison.regions_grid(name) for name in names]
    elif kind == "attention":
        ratio = [table[f"attention_{name}"].to_numpy().astype(np.float64) for name in names]
    else:
        ratio = [np.zeros(table.height) for _ in names]
    rows, cols = family.rows, family.columns
    fields = [
        np.repeat(table["band"].to_numpy().astype(np.float64)[:rows], cols),
        np.repeat(top[:rows], cols),
        np.repeat(top[:rows] + height, cols),
        family.a * factor,
        family.b * factor,
        family.diff * factor,
        np.nan_to_num(family.q, nan=1.0),
        family.significant.astype(np.float64),
        *(np.nan_to_num(np.asarray(r, dtype=np.float64).ravel(), nan=0.0, posinf=0.0) for r in ratio),
    ]
    if cols > 1:
        step = 100.0 / cols
        left = np.tile(np.arange(cols) * step, rows)
        fields += [left, left + step]
    stacked = np.round(np.stack(fields, axis=1), 4)
    p = np.asarray(fields[6], dtype=np.float64)  # adjusted p to 3 significant digits (shown as .3g): 3e-9 stays
    stacked[:, 6] = [float(f"{value:.3g}") for value in p]
    return stacked.reshape(rows, cols, len(fields)) if cols > 1 else stacked


def click_cells(clicks: ClickGrid, band_count: int, band_height_px: int) -> npt.NDArray[np.float64]:
    """Raw clicks summed into hover cells: one band high, CLICK_HOVER_COLUMNS across (clicks below the last band
    counted in it: the hover shows every click)."""
    cells = cells_by_band(clicks, max(band_count, 0), band_height_px, CLICK_HOVER_COLUMNS, below_into_last=True)
    return cells.astype(np.float64)


def reach_curve(bands: BandTable, labels: Mapping[str, str], markers: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Scroll reach by depth with its 95 % Wilson band, plus labelled reach depths (75/50/25 %, fold).

    Built as one dict, validated once: Plotly's add_vline and add_annotation check the whole figure on every call,
    which made this curve a sixth of the CPU of every Explore run (py-spy on a cached run)."""
    b = bands.bands
    depth = (b["top_px"].to_numpy() + bands.band_height_px / 2).astype(np.float64)
    reach = b["reach"].to_numpy() * 100
    low = b["reach_low"].to_numpy() * 100
    high = b["reach_high"].to_numpy() * 100
    interval = {
        "type": "scatter", "x": np.concatenate([depth, depth[::-1]]), "y": np.concatenate([high, low[::-1]]),
        "fill": "toself", "fillcolor": "rgba(194,65,12,0.18)", "line": {"width": 0}, "hoverinfo": "skip",
        "name": labels["interval"],
    }  # fmt: skip
    curve = {
        "type": "scatter", "x": depth, "y": np.round(reach, 2), "mode": "lines",
        "line": {"color": "#c2410c", "width": 2}, "name": labels["y"],
        "hovertemplate": "%{x:,.0f} px: %{y:.1f} %<extra></extra>",
    }  # fmt: skip
    lines = [
        {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
         "line": {"color": "#52525b", "width": 1, "dash": "dot"}}
        for x, _ in markers
    ]  # fmt: skip
    names = [  # labels step down so neighbours never overlap
        {"x": x, "y": 96 - 11 * i, "text": text, "showarrow": False, "xanchor": "left", "xshift": 3,
         "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.85)"}
        for i, (x, text) in enumerate(markers)
    ]  # fmt: skip
    layout = {
        "height": 300, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "showlegend": False,
        "xaxis": {"title": {"text": labels["x"]}}, "yaxis": {"title": {"text": labels["y"]}, "range": [0, 101]},
        "hovermode": "x", "shapes": lines, "annotations": names,
    }  # fmt: skip
    return go.Figure({"data": [interval, curve], "layout": layout})


def payload_bytes(fig: go.Figure) -> int:
    """Size of the JSON Streamlit sends for this figure (what the browser downloads over the websocket)."""
    return len(fig.to_json().encode())
