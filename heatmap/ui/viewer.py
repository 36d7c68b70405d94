"""The map viewer: the rendered maps in one scrollable frame as wide as the page, with hover read-outs. Pure (no
Streamlit here): it builds the HTML that `st.iframe` shows.

Why not a Plotly figure: a figure has a fixed pixel size chosen on the server, which does not know how wide the
browser is, so the map either left blank space or overflowed. In this frame the maps fill the width (or show at
100 %), scroll inside a frame of fixed height like the page itself, and several maps (A, B, B − A) sit side by
side in ONE scroller, so they always scroll together. A minimap shows where on a long page you are; "jump to"
buttons go to the fold and the 75/50/25 % reach depths. Hover read-outs use the same numbers and the same
translated templates as the tables (Plotly-style `%{customdata[i]:fmt}` references, formatted in the browser).

Everything from the data (page paths, segment values) reaches the frame as JSON inside a script and is written
with `textContent`, never as HTML, so a forged page path cannot inject markup.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from heatmap.drawing.render import Legend
from heatmap.ui.figures import Placement

DEFAULT_HEIGHT = 760  # px of the frame: the map is the largest thing on a 1000 px tall screen
LAYOUTS = ("side", "swipe")


@dataclass(frozen=True)
class Layer:
    """One map in the viewer: its rendered JPEG, where the data sits on it, and its hover numbers.

    `rows` holds one row of numbers per band (customdata columns 0..k-1); `cells`, when given, holds numbers per
    band × column (customdata columns k..), for click maps and click-region differences. `legend`: what the map's
    legend says, pinned under its title at the top of its pane while the page scrolls, with where each band sits
    on its bar.
    """

    title: str
    jpeg: bytes
    place: Placement
    band_height: float
    template: str
    rows: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    cells: npt.NDArray[np.float64] | None = None
    legend: Legend | None = None
    live: dict[str, Any] | None = None  # a map the browser paints itself (heatmap/drawing/live.py); jpeg: its picture

    def spec(self, src_of: int | None = None) -> dict[str, Any]:
        """The layer for viewer.js; `src_of`: an earlier layer with the same picture, which the page carries once."""
        cells = self.cells if self.cells is not None else np.zeros((self.rows.shape[0], 0, 0))
        band_count = max(self.rows.shape[0], cells.shape[0])
        encoded = self.jpeg and src_of is None
        return {
            "title": self.title,
            "src": "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii") if encoded else "",
            "srcOf": src_of,
            "cssWidth": round(self.place.css_width, 2),
            "mapHeight": round(self.place.map_height, 2),
            "totalHeight": round(self.place.total_height, 2),
            "dataTop": round(self.place.data_top, 2),
            "bandHeight": self.band_height,
            "bands": band_count,
            "rowWidth": int(self.rows.shape[1]) if self.rows.ndim == 2 else 0,
            "columns": int(cells.shape[1]),
            "cellWidth": int(cells.shape[2]) if cells.ndim == 3 else 0,
            "rows": _numbers(self.rows),
            "cells": _numbers(cells),
            "template": self.template,
            "legend": _legend(self.legend),
            "live": self.live,
        }


def _legend(legend: Legend | None) -> dict[str, Any] | None:
    if legend is None:
        return None
    positions = np.zeros((0, 1)) if legend.positions is None else np.asarray(legend.positions, dtype=np.float64)
    grid = positions.reshape(len(positions), -1) if positions.size else np.zeros((0, 1))
    return {
        "title": legend.title,
        "facts": list(legend.facts),
        "low": legend.low,
        "high": legend.high,
        "colours": list(legend.colours),
        "columns": int(grid.shape[1]) if grid.size else 0,
        "positions": [-1.0 if not np.isfinite(v) else round(float(v), 4) for v in grid.ravel()],  # -1: not painted
    }


@dataclass(frozen=True)
class Mark:
    """A depth worth jumping to (CSS px from the top of the data) and its label."""

    depth: float
    label: str


def _numbers(values: npt.NDArray[np.float64]) -> list[float]:
    """Flat, finite numbers (NaN cannot travel as JSON). Not rounded here: the hover tables round what they show,
    and an adjusted p of 3e-9 must not become 0."""
    flat = np.nan_to_num(np.asarray(values, dtype=np.float64).ravel(), nan=0.0, posinf=0.0, neginf=0.0)
    return [float(v) for v in flat]


@cache
def _script() -> str:
    return (Path(__file__).with_name("viewer.js")).read_text(encoding="utf-8")


STYLE = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 "Source Sans Pro","Source Sans 3",system-ui,sans-serif;color:#1f2937;background:#fff}
.bar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;min-height:40px;padding:4px 2px}
.bar button{font:inherit;border:1px solid #d4d4d8;background:#fff;border-radius:6px;padding:3px 10px;cursor:pointer}
.bar button[aria-pressed=true]{background:#1f2937;color:#fff;border-color:#1f2937}
.bar button:focus-visible,.scroller:focus-visible{outline:2px solid #c2410c;outline-offset:1px}
.bar .sep{width:1px;height:20px;background:#d4d4d8;margin:0 4px}
.bar .group{display:inline-flex;flex-wrap:wrap;gap:6px;align-items:center}
.bar button{white-space:nowrap}
.bar input[type=range]{width:110px}
.bar label{color:#52525b}
.main{display:flex;gap:8px}
.scroller{flex:1;overflow:auto;position:relative;border:1px solid #e4e4e7;border-radius:6px;background:#fafafa}
.panes{display:flex;gap:12px;padding:0;min-width:min-content}
.pane{position:relative;flex:1 1 0;min-width:0}
.pane.actual{flex:0 0 auto}
.head{position:sticky;top:0;z-index:2;background:rgba(255,255,255,.94);border-bottom:1px solid #e4e4e7}
.pane h4{width:0;min-width:100%;margin:0;padding:3px 8px 0;font-size:13px;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis}
.pane img{display:block;width:100%;height:auto;margin:0 auto;user-select:none}
.pane .live{margin:0 auto}
.pane .live canvas{display:block;width:100%;height:auto}
.swipe{position:relative;margin:0 auto}
.swipe img{display:block;width:100%;height:auto}
.swipe .over{position:absolute;inset:0}
.swipe .edge{position:absolute;top:0;bottom:0;width:2px;background:#c2410c}
.mini{position:relative;flex:0 0 auto;cursor:pointer;border:1px solid #e4e4e7;border-radius:4px;overflow:hidden}
.mini img{display:block;width:100%;height:100%}
.mini .frame{position:absolute;left:0;right:0;border:2px solid #c2410c;background:rgba(194,65,12,.12)}
.linkbox{position:fixed;z-index:11;top:44px;right:8px;width:min(560px,96%);display:none;gap:6px;align-items:center;
  background:#fff;border:1px solid #a1a1aa;border-radius:6px;padding:6px 8px;box-shadow:0 2px 8px rgba(0,0,0,.15)}
.linkbox input{flex:1;min-width:0;font:inherit;border:1px solid #d4d4d8;border-radius:4px;padding:2px 6px}
.linkbox button{font:inherit;border:0;background:none;cursor:pointer;padding:0 4px}
.cursor{position:absolute;z-index:1;pointer-events:none;border:2px solid #1f2937;
  background:rgba(31,41,55,.08)}
.key{position:relative;width:0;min-width:100%;padding:3px 8px 4px;font-size:12px;line-height:1.35;cursor:pointer}
.key .scale{display:flex;align-items:center;gap:6px;margin:1px 0 2px;overflow:hidden}
.key .scale span{flex:0 1 auto;min-width:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#3f3f46}
.key .title{flex:1 1 0;min-width:0;margin-left:4px;font-weight:600;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis}
.key .ramp{position:relative;flex:0 1 200px;min-width:48px;height:10px;border:1px solid #71717a;border-radius:2px}
.key .mark{position:absolute;top:-7px;width:0;height:0;margin-left:-5px;border:5px solid transparent;
  border-top:6px solid #111;border-bottom:0;display:none}
.key .facts{color:#52525b;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.key.open .facts{position:absolute;left:0;right:0;top:100%;padding:4px 8px 6px;white-space:normal;
  background:#fff;border-bottom:1px solid #a1a1aa;box-shadow:0 2px 6px rgba(0,0,0,.12)}
.tip{position:fixed;z-index:10;pointer-events:none;background:#fff;border:1px solid #a1a1aa;border-radius:6px;
  padding:6px 8px;box-shadow:0 2px 8px rgba(0,0,0,.15);font-size:13px;display:none;max-width:360px}
"""


def viewer_html(
    layers: Sequence[Layer],
    marks: Sequence[Mark] = (),
    labels: Mapping[str, str] | None = None,
    height: int = DEFAULT_HEIGHT,
    layout: str = "side",
    name: str = "map",
    start: Mapping[str, Any] | None = None,
    link: str = "",
    remember: str = "",
    minimap: int = 0,
    opening: float | None = None,
    controls: Mapping[str, Any] | None = None,
) -> str:
    """The whole frame: toolbar (zoom, jump to depth, side by side / swipe for two maps, link to this spot), the
    scroller with the maps, a minimap of the first map, and the hover tip. `name` identifies the frame in tests.

    Where the maps open: `start` (from a link: `at` CSS px from the top of the data, `zoom`, `layout`), else
    where this browser tab last left the frame `name` for `remember` (e.g. the page path), so changing a segment
    or a date keeps the designer's place; else the top. `link` is the view's share link, which the "link to
    this spot" button extends with the spot shown. `minimap`: the layer the minimap shows. `opening`: where
    the maps open when neither a link nor this tab says (CSS px from the top of the data), e.g. at the clicks.
    `controls`: for live layers, which page widgets set the map type and colours (`prefix`, `kinds` in the
    radio's order, `ramps` and `scales` by their shown labels, `defaults`)."""
    first: dict[bytes, int] = {}
    for index, layer in enumerate(layers):
        first.setdefault(layer.jpeg, index)
    config = {
        "layers": [
            layer.spec(first[layer.jpeg] if layer.jpeg and first[layer.jpeg] < index else None)
            for index, layer in enumerate(layers)
        ],
        "marks": [{"depth": float(m.depth), "label": m.label} for m in marks],
        "labels": dict(labels or {}),
        "height": int(height),
        "layout": layout if layout in LAYOUTS else "side",
        "name": name,
        "start": {key: value for key, value in (start or {}).items() if value is not None} or None,
        "link": link,
        "memory": f"heatmap-viewer:{name}:{remember}",
        "minimap": minimap if 0 <= minimap < len(layers) else 0,
        "opening": {"at": float(opening)} if opening is not None and opening >= 0 else None,
        "controls": dict(controls) if controls else None,
    }
    text = json.dumps(config, ensure_ascii=False, allow_nan=False)
    data = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # no markup at all
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}</style></head>'
        f'<body><div id="viewer" data-testid="heatmap-viewer" data-name="{html.escape(name)}"></div>'
        f'<script type="application/json" id="config">{data}</script>'
        f"<script>{_script()}</script></body></html>"
    )


def payload_bytes(html: str) -> int:
    """What the browser downloads for the frame."""
    return len(html.encode())


def config_of(page: str) -> dict[str, Any]:
    """The config a viewer page carries (what the frame shows), read back from its HTML."""
    start = page.index('<script type="application/json" id="config">') + len(
        '<script type="application/json" id="config">'
    )
    end = page.index("</script>", start)
    result: dict[str, Any] = json.loads(page[start:end])
    return result
