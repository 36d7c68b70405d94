"""Everything the browser needs to draw every map of a view itself (heatmap/ui/viewer.js), so that changing the
map type, opacity, ramp, scale or smoothing is instant: the numbers of all three map types, where each band lands
on the picture, the ramps' lookup tables, the lines, and the legend's words for every setting.

The browser paints with the same integer arithmetic as `render` (paint.fade_alpha, ramps.colour_index, the blend
round((s·(255−a) + c·a) / 255)) from the same tables, so a band's colour on screen is, byte for byte, the colour
the server's PNG gives it on the same pixel of the page. Nothing here depends on a colour setting: one spec serves
every toggle, and the server renders it once per view.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from heatmap.drawing import paint, render
from heatmap.drawing.captions import legend_text
from heatmap.drawing.ramps import RAMPS, colour_index, lut
from heatmap.statistics.metrics import REACH_LEVELS, BandTable, ClickGrid

NOT_PAINTED = -1.0  # a band without data (NaN or 0) leaves the picture as it is


class _Later:
    """A number the browser fills in (the opacity, a fixed ceiling): formats as `{name:spec}`, which viewer.js
    formats as Python would."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + ":" + spec + "}"


def _floats(values: npt.ArrayLike) -> str:
    """Float64 numbers as base64, exact (a tall page's click density is 100 k numbers: as JSON text, twice the
    bytes)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def _band_values(values: npt.ArrayLike) -> list[float]:
    data = np.asarray(values, dtype=np.float64)
    drawn = np.isfinite(data) & (data > 0)
    return [float(v) if ok else NOT_PAINTED for v, ok in zip(data.tolist(), drawn.tolist(), strict=True)]


def _ceilings(values: npt.ArrayLike) -> dict[str, float]:
    return {mode: render.resolve_ceiling(values, mode) for mode in ("max", "p99")}


def legends(caption: render.Caption, clicks: int) -> dict[str, dict[str, Any]]:
    """The legend for each map type × scale × smoothing, as `render_map` burns it in; the opacity and a fixed
    ceiling stay `{opacity:.0%}` and `{vmax:.3g}` for the browser to fill."""
    out: dict[str, dict[str, Any]] = {}
    opacity, vmax = _Later("opacity"), _Later("vmax")
    for kind in render.KINDS:
        told = replace(caption, clicks=clicks if kind == "clicks" else None)
        for scale in render.SCALE_MODES:
            for smooth in (False, True):
                display = render.Display(kind=kind, scale=scale, smooth=smooth, opacity=opacity)  # type: ignore[arg-type]
                lines = render.caption_lines(told, display)
                low, high = render.end_labels(kind, vmax, caption.language)  # type: ignore[arg-type]
                out[f"{kind}|{scale}|{int(smooth)}"] = {
                    "title": lines[0],
                    "facts": [part for line in lines[2:] for part in line.split(render.GAP) if part],
                    "low": low,
                    "high": high,
                }
    return out


def _lines(bands: BandTable, alignment: render.Alignment, width: int, map_height: int, language: str) -> list[Any]:
    """The 75/50/25 % reach lines and the fold, as `render` draws them: image row, label, fold or not."""
    if bands.page_views <= 0:
        return []
    out: list[dict[str, Any]] = []
    for level, depth in bands.reach_depths(REACH_LEVELS).items():
        row = int(alignment.css_to_row([depth], width)[0])
        out.append({"row": row, "label": legend_text(language, "line.reached", level=level), "fold": False})
    fold = int(alignment.css_to_row([bands.fold_px], width)[0])
    out.append({"row": fold, "label": legend_text(language, "line.fold"), "fold": True})
    return [line for line in out if 0 <= line["row"] < map_height]


def _first_screen(
    bands: BandTable, alignment: render.Alignment, width: int, map_height: int, language: str
) -> list[Any]:
    """The first screen outlined down to the average fold, as `render._first_screen` draws it."""
    row = int(alignment.css_to_row([bands.fold_px], width)[0])
    label = legend_text(language, "line.first_screen")
    return (
        [{"row": row, "label": label, "fold": True, "box": True}]
        if bands.page_views > 0 and 0 <= row < map_height
        else []
    )


def live_spec(
    size: tuple[int, int],
    alignment: render.Alignment,
    bands: BandTable,
    clicks: ClickGrid,
    caption: render.Caption,
    sigma_px: float = render.Display.sigma_px,
    first_screen: bool = False,
) -> dict[str, Any]:
    """What viewer.js needs to paint any map of this view on a picture of `size` (width, height in image px,
    the screenshot's kept rows or a plain page), aligned by `alignment`. `first_screen`: the clicks are at screen
    positions (the fixed and sticky layer), so a click map outlines the first screen instead of the page's depths
    (`clickLines`), as `render_map` does."""
    width, full_height = size
    top, bottom = alignment.rows(full_height)
    height = bottom - top
    scale = alignment.scale(width)
    spans = render.band_spans(bands.band_count, bands.band_height_px, alignment, width, height)
    density = clicks.density(width / scale, sigma_px)
    step = clicks.y_step_px
    return {
        "width": width,
        "height": height,
        "scale": scale,
        "fadeIn": paint.FADE_IN,
        "spans": [list(span) for span in spans],
        "reach": _band_values(bands.reach),
        "attention": _band_values(bands.seconds_per_view),
        "attentionCeilings": _ceilings(bands.seconds_per_view),
        "density": _floats(density),
        "densityRows": int(density.shape[0]),
        "densityColumns": int(density.shape[1]) if density.ndim == 2 else 0,
        "densityCeilings": _ceilings(density),
        "rowToGrid": [(top / scale - alignment.shift_px) / step, 1.0 / (scale * step)],
        "luts": {name: base64.b64encode(lut(name).tobytes()).decode("ascii") for name in RAMPS},
        "legendColours": {name: list(render.legend_colours(lut(name))) for name in RAMPS},
        "legends": legends(caption, clicks.total),
        "lines": _lines(bands, alignment, width, height, caption.language),
        "clickLines": _first_screen(bands, alignment, width, height, caption.language) if first_screen else None,
        "lineColour": list(paint.LINE_COLOUR),
        "foldColour": list(paint.FOLD_COLOUR),
    }


def shared_scale(specs: Sequence[dict[str, Any]], attention: Sequence[npt.ArrayLike]) -> list[dict[str, Any]]:
    """Side-by-side maps on one colour scale: each spec's ceilings become those of all the maps' values together
    (`attention`: each side's seconds per page view; the click densities are the specs' own), as
    `render.shared_display` pins them for the server's render."""
    densities = [np.frombuffer(base64.b64decode(spec["density"]), dtype="<f8") for spec in specs]
    shared = {
        "attentionCeilings": {m: render.shared_ceiling(attention, m) for m in ("max", "p99")},
        "densityCeilings": {m: render.shared_ceiling(densities, m) for m in ("max", "p99")},
    }
    return [{**spec, **shared} for spec in specs]


def difference_spec(
    size: tuple[int, int],
    alignment: render.Alignment,
    difference: npt.ArrayLike,
    significant: npt.ArrayLike,
    band_height_px: int,
    kind: str,
    caption: render.Caption,
    fdr: float,
) -> tuple[dict[str, Any], render.Legend]:
    """What viewer.js needs to paint a difference map B − A (`render.render_difference`) on a picture of `size`
    at any opacity: each cell's colour on the diverging ramp (−1: not painted), rows × `cellColumns`, and its
    legend, whose opacity the browser fills in."""
    width, full_height = size
    top, bottom = alignment.rows(full_height)
    height = bottom - top
    t, mask, limit = render.difference_cells(difference, significant)
    spans = render.band_spans(t.shape[0], band_height_px, alignment, width, height)
    ramp = lut("difference")
    lines, low, high = render.difference_words(caption, kind, limit, _Later("opacity"), fdr)  # type: ignore[arg-type]
    positions = np.where(mask, t, np.nan).reshape(np.shape(difference))
    legend = render.screen_legend(lines, low, high, ramp, positions)
    spec = {
        "width": width,
        "height": height,
        "scale": alignment.scale(width),
        "spans": [list(span) for span in spans],
        "cellIndex": np.where(mask, colour_index(t), -1).ravel().tolist(),
        "cellColumns": int(t.shape[1]),
        "lut": base64.b64encode(ramp.tobytes()).decode("ascii"),
        "lines": [],
    }
    return spec, legend
