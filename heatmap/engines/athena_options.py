"""Where the Athena engine's tables and workgroup are: settings read without importing the engine (sqlglot,
polars), so every command starts fast."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AthenaOptions:
    database: str = "page_heatmaps"
    table: str = "exports"  # the JSON Lines table; the others are named after it (`table_name`)
    workgroup: str = "page-heatmaps"
    output_location: str | None = None  # else the workgroup's results location
    region: str | None = None
    timeout_seconds: float = 300.0
    retry_mode: str = "standard"
    max_attempts: int = 5

    @property
    def undated_table(self) -> str:
        return self.table_name("exports_undated")

    def table_name(self, logical: str) -> str:
        """The Glue table of one of the SQL's tables (`exports`, `exports_parquet_undated`, ...): tracking/athena.yaml
        names them all after the JSON Lines table, `<table>`, `<table>_parquet_undated` and so on."""
        return self.table + logical.removeprefix("exports")
