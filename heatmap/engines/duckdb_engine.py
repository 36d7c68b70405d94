"""The DuckDB engine: the Athena SQL, transpiled by sqlglot, run on this machine over the exports' files.

It is the test oracle for the Athena SQL (same text, same rules, same answers as the local engine) and an
out-of-core option: DuckDB scans the exports itself (JSON Lines, CSV, Parquet; gzip too) and spills to disk, and like Athena it reads only the
files of the run-date folders a query names (the tables are pointed at them before each query). S3 objects are first copied to a
local folder through the project's own store (keyed by ETag, so each is fetched once): no DuckDB extension is
downloaded at run time. UA documents and JSON arrays need the local engine (one sentence says so).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import polars as pl
from sqlglot import exp

from heatmap.contract import Bounds
from heatmap.engines.duckdb_files import READ_KINDS, quoted, rows_sql, shape_of
from heatmap.engines.sql import FLOW, JSON, RUN_DATE, Scope, role_fields, scope_of, table_columns
from heatmap.engines.sql_engine import SqlEngine, refuse_shapes
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
        self,
        store: Store,
        objects: list[ObjectInfo],
        fields: FieldMap,
        bounds: Bounds,
        cache_dir: str | None,
        shared: Store | None = None,
    ) -> None:
        import duckdb

        super().__init__(store.uri, objects, fields, bounds, cache_dir, shared)
        self.store = store
        self.cache_dir = cache_dir
        self.files = {o.key: self._local_file(o) for o in objects}  # where each is (or will be) on this disk
        self.connection = duckdb.connect()
        for setting in ("enable_progress_bar", "autoinstall_known_extensions", "autoload_known_extensions"):
            self.connection.execute(f"SET {setting} = false")  # and never download anything at run time
        self.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # beyond it DuckDB spills to disk
        self._running = threading.Lock()

    def prepare(self) -> None:
        for info in self.objects:
            path = Path(self.files[info.key])
            if not isinstance(self.store, LocalStore) and not path.exists():
                write_atomic(path, self.store.read(info.key))
        self._tables(self.fields)

    def _local_file(self, info: ObjectInfo) -> str:
        if isinstance(self.store, LocalStore):
            return str(self.store.root / info.key)
        if self.cache_dir is None:
            raise DataError("the duckdb engine needs a cache folder to copy S3 exports into")
        name = hashlib.sha256(f"{info.key}\x1f{info.etag}".encode()).hexdigest()
        # a folder per object: the SQL names winners by folder, so unrelated objects must never share one; the
        # file's shape is read from its bytes, never from its name
        return str(Path(self.cache_dir) / "duckdb-mirror" / name / "export")

    def _tables(self, fields: FieldMap) -> None:
        """`exports` and `exports_undated` as Athena's Glue tables show them (tracking/athena.yaml): each spelling
        of a field a string column (`hm_band`, `customevent_hm_band`), "$path", and the partition columns, taken
        from `_files` (one row per file: its flow and run-date folder). Each file is read by its shape
        (duckdb_files.py); malformed JSON lines become rows of nulls."""
        self._columns = table_columns(role_fields(fields))
        self._nulls = ", ".join(f"NULL::VARCHAR AS {quoted(column)}" for column, _key in self._columns)
        key_of = {self.files[o.key]: o.key for o in self.objects}
        self._shapes = {file: shape_of(file, self.connection) for file in key_of}
        way_out = "use the local engine (--engine local, HEATMAP_ENGINE=local), which reads every shape"
        refuse_shapes(
            {key_of[f]: shape.kind for f, shape in self._shapes.items()}, READ_KINDS, "the SQL engines", way_out
        )
        self.connection.execute("CREATE TABLE _files (file VARCHAR PRIMARY KEY, flow VARCHAR, run_date VARCHAR)")
        rows = [(self.files[o.key], *self.partition(o.key)) for o in self.objects]
        if rows:
            self.connection.executemany("INSERT INTO _files VALUES (?, ?, ?)", rows)
        self._views(Scope.of((o.key for o in self.objects), self.path_of, self.partition))

    def _views(self, scope: Scope) -> None:
        """Point the two tables at the files of the scope's partitions only, as partition projection does on
        Athena: a run-date partition is its folder's files; `exports_undated` reads a flow's files whole (dated
        ones too, as Athena reads the flow's folder; the queries keep only the objects they name by "$path")."""
        dated, flows = scope.folders  # every export is family JSON here: these views give both spellings
        chosen = [(key, self.partition(key)) for key in self.files]
        names = ", ".join(quoted(column) for column, _key in self._columns)
        for table, partitions, files in (
            (JSON.table, f"f.{FLOW}, f.{RUN_DATE}", [self.files[k] for k, part in chosen if part in dated]),
            (JSON.undated_table, f"f.{FLOW}", [self.files[k] for k, (flow, _day) in chosen if flow in flows]),
        ):
            rows = rows_sql({file: self._shapes[file] for file in files}, self._columns)
            if rows is not None:
                body = f'SELECT r.file AS "$path", {partitions}, {names} FROM ({rows}) AS r JOIN _files AS f ON r.file = f.file'
            else:
                nulls = ", ".join(f"NULL::VARCHAR AS {c.removeprefix('f.')}" for c in partitions.split(", "))
                body = f'SELECT NULL::VARCHAR AS "$path", {nulls}, {self._nulls} WHERE FALSE'
            self.connection.execute(f"CREATE OR REPLACE VIEW {table} AS {body}")

    def path_of(self, key: str) -> str:
        return self.files[key]

    def run(self, query: exp.Expression) -> pl.DataFrame:
        import duckdb

        scope = scope_of(query)
        try:
            with self._running:  # one query at a time on the connection, each over its own partitions' files
                if scope is not None:
                    self._views(scope)
                result: pl.DataFrame = self.connection.sql(query.sql(dialect="duckdb")).pl()
                return result
        except duckdb.Error as exc:
            raise DataError(f"the duckdb engine could not answer: {str(exc).splitlines()[0]}") from None
