"""A view's picture, the same for the app and the CLI: its legend facts and its map drawn on a screenshot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from heatmap.drawing import render
from heatmap.drawing.captions import legend_text
from heatmap.usecases.numbers import Numbers
from heatmap.usecases.view import View


def written_segment(where: Mapping[str, Sequence[str]]) -> str:
    """A segment as its filters are written (`deviceCategory=mobile|tablet; ...`): the CLI's legend line."""
    return "; ".join(f"{k}={'|'.join(v)}" for k, v in where.items() if v)


def caption(view: View, nums: Numbers, language: str, segment: str | None = None) -> render.Caption:
    """The legend facts of `view`, in `language`; `segment` is how the caller names the segment (the app: its
    labels), else the filters as written, else "all visitors"; a click map of one layer says which."""
    named = segment or written_segment(view.where) or legend_text(language, "all_visitors")
    return render.Caption(
        page=view.page or "",
        start=view.start.isoformat() if view.start else "",
        end=view.end.isoformat() if view.end else "",
        segment=named,
        page_views=nums.n,
        clicks=nums.clicks.total if view.kind == "clicks" else None,
        language=language,
        ga_folded=nums.ga_folded,
        layer=legend_text(language, f"layer_{view.layer}") if view.layer != "all" else None,
    )


def draw(
    image: render.Picture,
    alignment: render.Alignment,
    view: View,
    nums: Numbers,
    legend: render.Caption,
    drawing: render.Display | None = None,
) -> render.Rendered:
    """The view's map on `image` (a screenshot, or the app's downscaled copy of one) with its legend."""
    drawing = drawing or view.display.drawing(view.kind)
    return render.render_map(
        image,
        replace(drawing, first_screen=view.layer == "fixed"),
        legend,
        bands=nums.bands,
        clicks=nums.clicks if view.kind == "clicks" else None,
        alignment=alignment,
    )
