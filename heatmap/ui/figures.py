"""Plotly figures for the browser. Pure (plotly, numpy): no Streamlit here.

The map is the engine's rendered preview (a downscaled JPEG with the overlay and legend already painted, so the
browser shows the same pixels as the exported PNG) placed as a `layout_image`, with a fully transparent
`go.Heatmap` on top that carries the hover read-outs (band, reach with its interval, seconds per view, clicks).
Figure coordinates are CSS px of the displayed (cropped) screenshot, so the JSON stays small whatever the page
height: the payload is the JPEG (≤ its byte budget) plus one hover row per band.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from heatmap.statistics.metrics import BandTable, ClickGrid

TRANSPARENT = [[0.0, "rgba(0,0,0,0)"], [1.0, "rgba(0,0,0,0)"]]
MAX_CHART_WIDTH = 640  # the map column at common screen widths; wider figures leave blank space
MIN_CHART_WIDTH = 360
MAX_CHART_HEIGHT = 16_000
CLICK_HOVER_COLUMNS = 20  # hover cells 5 % wide, one band high


@dataclass(frozen=True)
class Placement:
    """Where things sit in figure units (CSS px of the displayed screenshot)."""

    css_width: float
    map_height: float  # height of the map part (the legend panel follows below it)
    total_height: float  # map + legend
    data_top: float  # figure y of the data's y = 0 (shift and crop applied)

    def chart_size(self, max_width: int = MAX_CHART_WIDTH) -> tuple[int, int]:
        width = float(min(max_width, max(min(MIN_CHART_WIDTH, max_width), self.css_width)))
        height = self.total_height * width / self.css_width
        if height > MAX_CHART_HEIGHT:
            width *= MAX_CHART_HEIGHT / height
            height = MAX_CHART_HEIGHT
        return round(width), round(height)


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
    lines = [labels["band"], labels["reach"], labels["seconds"], labels["share"]]
    if clicks:
        lines = [labels["cell"], *lines]
    return "<br>".join(lines) + "<extra></extra>"


def plotly_labels(t: object) -> dict[str, str]:
    """Translated hover lines with plotly placeholders (customdata columns as in `band_hover`)."""
    from heatmap.ui.i18n import Translator

    assert isinstance(t, Translator)
    cd = "%{{customdata[{}]:{}}}".format
    return {
        "band": t("map.hover_band", band=cd(0, ".0f"), top=cd(1, ",.0f"), bottom=cd(2, ",.0f")),
        "reach": t("map.hover_reach", reach=cd(3, ".1f") + " %", low=cd(4, ".1f"), high=cd(5, ".1f") + " %"),
        "seconds": t("map.hover_seconds", seconds=cd(6, ".2f")),
        "share": t("map.hover_share", share=cd(7, ".1f") + " %"),
        "cell": t("map.hover_clicks", clicks=cd(9, ",.0f")) + f" · x {cd(10, '.0f')}–{cd(11, '.0f')} %",
    }


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def overlay_figure(
    preview: bytes,
    place: Placement,
    bands: BandTable,
    labels: Mapping[str, str],
    clicks: ClickGrid | None = None,
    hover: npt.NDArray[np.float64] | None = None,
    template: str | None = None,
    max_width: int = MAX_CHART_WIDTH,
) -> go.Figure:
    """The rendered preview as background plus an invisible heatmap for hover read-outs.

    `hover`/`template` replace the default per-band read-out (e.g. for a difference map).
    """
    fig = go.Figure()
    fig.add_layout_image(
        source=data_uri(preview),
        xref="x",
        yref="y",
        x=0,
        y=0,
        sizex=place.css_width,
        sizey=place.total_height,
        sizing="stretch",
        layer="below",
    )
    if hover is None:
        hover = band_hover(bands)
    bh = bands.band_height_px
    if hover.shape[0]:
        if hover.ndim == 3:  # per region: rows of one band × columns across the width
            customdata, hovertemplate = hover, template or hover_template(labels)
        elif clicks is None:
            customdata, hovertemplate = hover[:, None, :], template or hover_template(labels)
        else:
            cells = click_cells(clicks, bands.band_count, bh)
            cols = CLICK_HOVER_COLUMNS
            step = 100 / cols
            left = np.arange(cols) * step
            grid = np.concatenate(
                [
                    np.repeat(hover[:, None, :], cols, axis=1),
                    cells[:, :, None],
                    np.broadcast_to(left[None, :, None], (hover.shape[0], cols, 1)),
                    np.broadcast_to(left[None, :, None] + step, (hover.shape[0], cols, 1)),
                ],
                axis=2,
            )
            customdata, hovertemplate = np.round(grid, 2), hover_template(labels, clicks=True)
        columns = customdata.shape[1]
        fig.add_trace(
            go.Heatmap(
                z=np.zeros(customdata.shape[:2]),
                customdata=customdata,
                x0=place.css_width / columns / 2,
                dx=place.css_width / columns,
                y0=place.data_top + bh / 2,
                dy=bh,
                colorscale=TRANSPARENT,
                showscale=False,
                hovertemplate=hovertemplate,
                hoverongaps=False,
            )
        )
    width, height = place.chart_size(max_width)
    fig.update_xaxes(range=[0, place.css_width], visible=False, showgrid=False, zeroline=False)
    fig.update_yaxes(
        range=[place.total_height, 0],
        visible=False,
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        constrain="domain",
        constraintoward="top",
    )
    fig.update_layout(
        width=width,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        plot_bgcolor="white",
        paper_bgcolor="white",
        dragmode="zoom",
        hoverlabel={"bgcolor": "white", "font": {"size": 13}},
    )
    return fig


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
    factor = {"reach": 100.0, "attention": 1.0, "clicks": 1000.0}[kind]
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
    stacked[:, 6] = np.asarray(fields[6], dtype=np.float64)  # adjusted p unrounded: 3e-9 must not read as 0
    return stacked.reshape(rows, cols, len(fields)) if cols > 1 else stacked


def click_cells(clicks: ClickGrid, band_count: int, band_height_px: int) -> npt.NDArray[np.float64]:
    """Raw clicks summed into hover cells: one band high, CLICK_HOVER_COLUMNS across."""
    rows = max(band_count, 0)
    out = np.zeros((rows, CLICK_HOVER_COLUMNS), dtype=np.float64)
    counts = clicks.counts
    if counts.size == 0 or rows == 0:
        return out
    y_top = np.arange(counts.shape[0]) * clicks.y_step_px
    band_of_row = np.minimum(y_top // band_height_px, rows - 1)
    col_of_x = np.arange(counts.shape[1]) * CLICK_HOVER_COLUMNS // counts.shape[1]
    per_band = np.zeros((rows, counts.shape[1]))
    np.add.at(per_band, band_of_row, counts)
    np.add.at(out.T, col_of_x, per_band.T)
    return out


def reach_curve(bands: BandTable, labels: Mapping[str, str], markers: Sequence[tuple[float, str]] = ()) -> go.Figure:
    """Scroll reach by depth with its 95 % Wilson band, plus labelled reach depths (75/50/25 %, fold)."""
    b = bands.bands
    depth = (b["top_px"].to_numpy() + bands.band_height_px / 2).astype(np.float64)
    reach = b["reach"].to_numpy() * 100
    low = b["reach_low"].to_numpy() * 100
    high = b["reach_high"].to_numpy() * 100
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([depth, depth[::-1]]),
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor="rgba(194,65,12,0.18)",
            line={"width": 0},
            hoverinfo="skip",
            name=labels["interval"],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=depth,
            y=np.round(reach, 2),
            mode="lines",
            line={"color": "#c2410c", "width": 2},
            name=labels["y"],
            hovertemplate="%{x:,.0f} px: %{y:.1f} %<extra></extra>",
        )
    )
    for i, (x, text) in enumerate(markers):  # labels step down so neighbours never overlap
        fig.add_vline(x=x, line={"color": "#52525b", "width": 1, "dash": "dot"})
        fig.add_annotation(
            x=x, y=96 - 11 * i, text=text, showarrow=False, xanchor="left", xshift=3, font={"size": 11},
            bgcolor="rgba(255,255,255,0.85)",
        )  # fmt: skip
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        showlegend=False,
        xaxis_title=labels["x"],
        yaxis_title=labels["y"],
        yaxis_range=[0, 101],
        hovermode="x",
    )
    return fig


def payload_bytes(fig: go.Figure) -> int:
    """Size of the JSON Streamlit sends for this figure (what the browser downloads over the websocket)."""
    return len(fig.to_json().encode())
