"""How DuckDB reads each export file as the string columns the Glue tables declare, whatever its shape.

A file's shape is told from its first bytes by the local engine's own test (`heatmap.readers.export_kind`), so
both engines read a file the same way: JSON Lines with `read_json`, CSV with `read_csv` (columns by header name),
Parquet with `read_parquet` (typed columns, as the event route writes them, become their text as the local
reader makes it). Files are grouped by shape and columns, one read per group, so a column a group lacks is a
NULL instead of an error, and either spelling of a GA4 custom parameter (`customEvent:hm_band`, `hm_band`) is
found in every format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from heatmap.readers import export_kind, head_of

READ_KINDS = ("jsonl", "csv", "parquet")  # what DuckDB reads; "empty" files hold no rows and are left out


@dataclass(frozen=True)
class FileShape:
    kind: str  # one of heatmap.readers.KINDS
    gzipped: bool
    keys: tuple[str, ...] = ()  # the columns a CSV or Parquet file has (JSON Lines: every key may be anywhere)


def shape_of(path: str, connection: Any) -> FileShape:
    """The shape of one local export file, from its first 64 KB (and a Parquet file's footer)."""
    with open(path, "rb") as handle:
        head, gzipped = head_of(handle.read(65536))
    kind = export_kind(head)
    if kind == "csv":
        header = next(csv.reader(io.StringIO(head.decode("utf-8", "replace").lstrip("\ufeff"))), [])
        return FileShape(kind, gzipped, tuple(header))
    if kind == "parquet" and not gzipped:
        described = connection.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        return FileShape(kind, gzipped, tuple(str(row[0]) for row in described))
    return FileShape("parquet.gz" if kind == "parquet" else kind, gzipped)


def rows_sql(shapes: Mapping[str, FileShape], columns: Iterable[tuple[str, str]]) -> str | None:
    """A SELECT of `file` and one VARCHAR column per (column, key) over the files, or None when none has rows."""
    columns = list(columns)
    groups: dict[tuple[str, bool, tuple[str, ...]], list[str]] = {}
    for file, shape in sorted(shapes.items()):
        if shape.kind in READ_KINDS:
            groups.setdefault((shape.kind, shape.gzipped, shape.keys), []).append(file)
    reads = [_read(kind, gzipped, keys, files, columns) for (kind, gzipped, keys), files in groups.items()]
    return "\nUNION ALL\n".join(reads) or None


def _read(kind: str, gzipped: bool, keys: tuple[str, ...], files: list[str], columns: list[tuple[str, str]]) -> str:
    listed = "[" + ", ".join(literal(f) for f in files) + "]"
    compression = literal("gzip" if gzipped else "none")
    if kind == "jsonl":
        struct = "{" + ", ".join(f"{literal(key)}: 'VARCHAR'" for key in dict.fromkeys(k for _c, k in columns)) + "}"
        source = (
            f"read_json({listed}, format = 'newline_delimited', columns = {struct}, ignore_errors = true, "
            f"filename = true, maximum_object_size = 1048576, compression = {compression})"
        )
        present = {key for _column, key in columns}
    elif kind == "csv":
        source = (
            f"read_csv({listed}, header = true, delim = ',', quote = '\"', escape = '\"', all_varchar = true, "
            f"null_padding = true, ignore_errors = true, filename = true, compression = {compression})"
        )
        present = set(keys)
    else:
        source = f"read_parquet({listed}, filename = true)"
        present = set(keys)
    select = ", ".join(
        f"CAST(r.{quoted(key)} AS VARCHAR) AS {quoted(column)}"
        if key in present
        else f"NULL::VARCHAR AS {quoted(column)}"
        for column, key in columns
    )
    return f"SELECT r.filename AS file, {select} FROM {source} AS r"


def literal(value: str) -> str:
    return exp.convert(value).sql(dialect="duckdb")


def quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")
