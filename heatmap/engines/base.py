"""The one small interface the app and the CLI ask for data (docs/engines.md), whichever engine answers.

An engine knows a source's catalog (pages, segment values, coverage, errors) and answers a view with sums
only: page views and seconds per band, clicks per cell. Statistics and drawing stay in process, so every
engine's maps, comparisons and saved runs look and behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from heatmap.ingest.catalog import Catalog
from heatmap.table import ViewSums
from heatmap.templates import Template

Where = Mapping[str, Sequence[str]]
Page = str | Template  # one path, or a template: every path whose first matching rule it is
__all__ = ["Engine", "Page", "ViewSums", "Where"]


class Engine(Protocol):
    name: str

    @property
    def catalog(self) -> Catalog:
        """Pages, segment values, coverage and errors of the source."""
        ...

    def view(self, page: Page, start: date, end: date, where: Where | None = None) -> ViewSums:
        """Sums of one page (or template) between two dates (inclusive) for rows matching every segment
        condition."""
        ...
