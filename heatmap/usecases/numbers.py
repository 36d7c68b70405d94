"""A view's numbers, the same for the app and the CLI: the engine's sums, then bands and clicks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from heatmap.engines.base import Engine
from heatmap.statistics.metrics import BandTable, ClickGrid, band_table, click_grid
from heatmap.templates import Templates
from heatmap.usecases.view import View

NO_TEMPLATES = Templates()


@dataclass
class Numbers:
    """What the engine says about one selection."""

    bands: BandTable
    clicks: ClickGrid
    missing_days: list[date] = field(default_factory=list)
    ga_folded: float | None = None  # share of the period's heatmap events GA4 folded into "(other)"
    has_rows: bool = True  # False: not one export row matched (a page or segment without data)

    @property
    def n(self) -> int:
        return self.bands.page_views


def numbers(engine: Engine, view: View, templates: Templates = NO_TEMPLATES) -> Numbers:
    """The view's sums from the engine, then bands and clicks (fast: one page, no S3, no image work). A page
    named by one of `templates` is that template: the sums of its paths."""
    assert view.page is not None and view.start is not None and view.end is not None
    sums = engine.view(templates.page(view.page), view.start, view.end, view.where)
    bands = band_table(sums)
    return Numbers(
        bands=bands,
        clicks=click_grid(sums, bands.page_views),
        missing_days=[d for d in engine.catalog.missing_days if view.start <= d <= view.end],
        ga_folded=engine.catalog.folded_share(view.start, view.end),
        has_rows=not sums.is_empty,
    )
