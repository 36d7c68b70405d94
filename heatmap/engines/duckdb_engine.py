"""The DuckDB engine: the Athena SQL, transpiled by sqlglot, run on this machine over the exports' files.

It is the test oracle for the Athena SQL (same text, same rules, same answers as the local engine) and an
out-of-core option: DuckDB scans the JSON Lines itself and spills to disk. S3 objects are first copied to a
local folder through the project's own store (keyed by ETag, so each is fetched once): no DuckDB extension is
downloaded at run time. JSON Lines only (gzip included); CSV, Parquet and UA exports need the local engine.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
from sqlglot import exp

from heatmap.contract import Bounds
from heatmap.engines.sql import TABLE, column_name
from heatmap.engines.sql_engine import SqlEngine
from heatmap.errors import DataError
from heatmap.fields import FieldMap
from heatmap.ingest.parts import write_atomic
from heatmap.stores.base import ObjectInfo, Store
from heatmap.stores.local import LocalStore

MEMORY_LIMIT = "768MB"  # the app's budget is 1 GB (Community Cloud); DuckDB's own default is 80 % of the RAM


class DuckDBEngine(SqlEngine):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self, store: Store, objects: list[ObjectInfo], fields: FieldMap, bounds: Bounds, cache_dir: str | None
    ) -> None:
        import duckdb

        self.store = store
        self.files = {o.key: self._local_file(o, cache_dir) for o in objects}
        self.connection = duckdb.connect()
        for setting in ("enable_progress_bar", "autoinstall_known_extensions", "autoload_known_extensions"):
            self.connection.execute(f"SET {setting} = false")  # and never download anything at run time
        self.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # beyond it DuckDB spills to disk
        self._exports_view(fields)
        super().__init__(store.uri, objects, fields, bounds)

    def _local_file(self, info: ObjectInfo, cache_dir: str | None) -> str:
        if isinstance(self.store, LocalStore):
            return str(self.store.root / info.key)
        if cache_dir is None:
            raise DataError("the duckdb engine needs a cache folder to copy S3 exports into")
        name = hashlib.sha256(f"{info.key}\x1f{info.etag}".encode()).hexdigest()
        suffix = ".jsonl.gz" if info.key.endswith(".gz") else ".jsonl"
        path = Path(cache_dir) / "duckdb-mirror" / name[:2] / f"{name}{suffix}"
        if not path.exists():
            write_atomic(path, self.store.read(info.key))
        return str(path)

    def _exports_view(self, fields: FieldMap) -> None:
        """`exports`: every field as a string under its plain lower-case name (either spelling in the files),
        and "$path", as Athena's Glue table shows them. Malformed lines become rows of nulls (no date: skipped)."""
        roles = [fields.date, fields.page, fields.event_name, fields.band, fields.x, fields.y, fields.events,
                 fields.seconds, fields.seconds_sq, *fields.segments]  # fmt: skip
        spellings: dict[str, list[str]] = {}
        for field in roles:
            plain = field.removeprefix("customEvent:").removeprefix("ga:")
            spellings[column_name(field)] = [plain, f"customEvent:{plain}"]
        columns = {name: "VARCHAR" for names in spellings.values() for name in names}
        select = ", ".join(
            f"COALESCE({', '.join(_quoted(n) for n in names)}) AS {_quoted(column)}"
            for column, names in spellings.items()
        )
        files = sorted(self.files.values())
        if not files:
            self.connection.execute(
                f'CREATE VIEW {TABLE} AS SELECT NULL::VARCHAR AS "$path", '
                + ", ".join(f"NULL::VARCHAR AS {_quoted(c)}" for c in spellings)
                + " WHERE FALSE"
            )
            return
        files_list = "[" + ", ".join(_literal(f) for f in files) + "]"
        columns_struct = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in columns) + "}"
        self.connection.execute(
            f'CREATE VIEW {TABLE} AS SELECT filename AS "$path", {select} FROM read_json({files_list}, '
            f"format = 'newline_delimited', columns = {columns_struct}, ignore_errors = true, filename = true, "
            "maximum_object_size = 1048576)"
        )

    def path_of(self, key: str) -> str:
        return self.files[key]

    def run(self, query: exp.Expression) -> pl.DataFrame:
        import duckdb

        try:
            return self.connection.sql(query.sql(dialect="duckdb")).pl()
        except duckdb.Error as exc:
            raise DataError(f"the duckdb engine could not answer: {str(exc).splitlines()[0]}") from None


def _literal(value: str) -> str:
    return exp.convert(value).sql(dialect="duckdb")


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")
