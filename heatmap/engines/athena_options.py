"""Where the Athena engine's tables and workgroup are: settings read without importing the engine (sqlglot,
polars), so every command starts fast."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AthenaOptions:
    database: str = "page_heatmaps"
    table: str = "exports"  # partitioned by flow and run-date folder; `<table>_undated` by flow only
    workgroup: str = "page-heatmaps"
    output_location: str | None = None  # else the workgroup's results location
    region: str | None = None
    timeout_seconds: float = 300.0
    retry_mode: str = "standard"
    max_attempts: int = 5

    @property
    def undated_table(self) -> str:
        """The table over exports without run-date folders (tracking/athena.yaml names it `<table>_undated`)."""
        return f"{self.table}_undated"
