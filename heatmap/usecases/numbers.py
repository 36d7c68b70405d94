"""A view's numbers, the same for the app and the CLI: the engine's sums, then bands and clicks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from heatmap.engines.base import Engine
from heatmap.statistics.metrics import BandTable, ClickGrid, band_table, cell_grid, click_grid
from heatmap.table import FLAG_KINDS
from heatmap.templates import Templates
from heatmap.usecases.view import View

NO_TEMPLATES = Templates()


@dataclass
class Numbers:
    """What the engine says about one selection."""

    bands: BandTable
    clicks: ClickGrid  # the view's layer: all clicks, or those flagged rage, dead or fixed
    flags: dict[str, ClickGrid] = field(default_factory=dict)  # per flag (table.FLAG_KINDS), for the lists
    layer: str = "all"  # what `clicks` counts (view.LAYERS)
    missing_days: list[date] = field(default_factory=list)
    ga_folded: float | None = None  # share of the period's heatmap events GA4 folded into "(other)"
    has_rows: bool = True  # False: not one export row matched (a page or segment without data)

    @property
    def n(self) -> int:
        return self.bands.page_views


def numbers(engine: Engine, view: View, templates: Templates = NO_TEMPLATES) -> Numbers:
    """The view's sums from the engine, then bands and clicks (fast: one page, no S3, no image work). A page
    named by one of `templates`, or declared by the data's pages, is that template: the sums of its rows."""
    assert view.page is not None and view.start is not None and view.end is not None
    sums = engine.view(templates.page(view.page, engine.catalog.declared), view.start, view.end, view.where)
    bands = band_table(sums)
    flags = {kind: cell_grid(sums.flag(kind), bands.page_views) for kind in FLAG_KINDS}
    return Numbers(
        bands=bands,
        clicks=flags[view.layer] if view.layer in flags else click_grid(sums, bands.page_views),
        flags=flags,
        layer=view.layer if view.layer in flags else "all",
        missing_days=[d for d in engine.catalog.missing_days if view.start <= d <= view.end],
        ga_folded=engine.catalog.folded_share(view.start, view.end),
        has_rows=not sums.is_empty,
    )
