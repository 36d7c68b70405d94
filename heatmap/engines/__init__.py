"""Engines answer the app and the CLI: one small interface (engines/base.py), one module each; opened by
heatmap.usecases.sources.open_engine.

- `local` (default): the exports parsed once into Parquet parts on this machine, read a page at a time;
- `duckdb`: the Athena SQL transpiled and run here over the exports' files (the oracle for the SQL);
- `athena`: one query per view on Amazon Athena over the Glue tables of tracking/athena.yaml, reading only the
  run-date folders that hold the view's winning exports.
"""

from __future__ import annotations

ENGINES = ("local", "duckdb", "athena")
