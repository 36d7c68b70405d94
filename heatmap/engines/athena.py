"""The Athena engine: one SQL query per view, run where the exports already are (docs/engines.md).

Amazon Athena reads the AppFlow exports in S3 through the Glue tables of tracking/athena.yaml, in parallel, billed
per byte scanned; the app receives per-band sums and click cells (hundreds of rows). Queries go through boto3
(start, poll with backoff, paginate the results); botocore's retry mode retries throttling and 5xx. Results are
cached per query text (which holds the listing's winning objects), in memory and on disk, so toggling back to
a view or restarting the server does not pay twice. Each failure is one sentence a designer can pass on.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path
from typing import Any

import polars as pl
from sqlglot import exp

from heatmap.aws import new_client, one_line, unreached
from heatmap.contract import EVENT_ONLY_FIELDS, EVENT_ROUTE, LAYOUT_FIELD, TEMPLATE_FIELD, Bounds
from heatmap.engines.athena_options import AthenaOptions as AthenaOptions
from heatmap.engines.sql import EVENTS, FAMILIES, JSON, PARQUET, RUN_DATE, unit_of
from heatmap.engines.sql_engine import SqlEngine, refuse_shapes
from heatmap.errors import DataError, HeatmapError
from heatmap.fields import FieldMap
from heatmap.ingest.executions import execution_of, route_of
from heatmap.ingest.parts import write_atomic
from heatmap.stores.base import ObjectInfo, Store

_WAY_OUT = (
    "Athena's CSV SerDes map columns by position and each flow writes its own columns, so set the flow's file "
    "type to Parquet (tracking/appflow.yaml's ExportFormat), or use --engine duckdb or --engine local "
    "(HEATMAP_ENGINE), which read every shape AppFlow writes"
)
POLL_FIRST, POLL_MAX = 0.25, 5.0  # seconds between GetQueryExecution calls: doubling, capped
TYPES: dict[str, pl.DataType] = {
    "varchar": pl.String(),
    "bigint": pl.Int64(),
    "integer": pl.Int64(),
    "double": pl.Float64(),
    "boolean": pl.Boolean(),
}


class AthenaError(HeatmapError):
    """An Athena query failed, was cancelled or took too long; the message says which and what to do."""


class QueryTimeout(AthenaError):
    """A query ran past the engine's time limit (it is then stopped)."""


class NotRun(HeatmapError):
    """A dry run (`--show-sql`) needed a query whose result is not cached yet; `sql` is that query."""

    def __init__(self, sql: str) -> None:
        super().__init__("this needs a query that has not run yet")
        self.sql = sql


def make_client(options: AthenaOptions) -> Any:
    try:
        return new_client("athena", "Athena", options.retry_mode, options.max_attempts, {"region_name": options.region})
    except ValueError as exc:
        raise AthenaError(str(exc)) from None


class AthenaEngine(SqlEngine):
    name = "athena"
    dialect = "trino"

    def __init__(
        self,
        bucket: str,
        prefix: str,
        objects: list[ObjectInfo],
        fields: FieldMap,
        bounds: Bounds,
        options: AthenaOptions,
        cache_dir: str | None = None,
        client: Any = None,
        sleep: Any = time.sleep,
        dry_run: bool = False,
        shared: Store | None = None,
        store: Store | None = None,
    ) -> None:
        """`store`: the source, to read the first bytes of exports no earlier catalog has seen (their shape)."""
        self.store = store
        self.bucket, self.prefix = bucket, prefix
        self.options = options
        self.client = client or make_client(options)
        self.sleep = sleep
        self.dry_run = dry_run  # run nothing: cached results only, else NotRun with the query's text
        self.results_dir = Path(cache_dir) / "athena-results" if cache_dir else None
        super().__init__(f"s3://{bucket}/{prefix}", objects, fields, bounds, cache_dir, shared)

    def path_of(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def check_shapes(self, keys: list[str]) -> dict[str, str]:
        """Which Glue tables read each new export: the first export of each new execution folder is looked at (a
        ranged GET of 64 KB; a run writes one format). JSON Lines -> `exports`; Parquet -> `exports_events` from
        the event route's flows (typed), `exports_parquet` from the report flows (strings). Any other shape is
        refused in one sentence, instead of a source that seems to have no rows."""
        if self.store is None:
            return {}
        from concurrent.futures import ThreadPoolExecutor

        from heatmap.readers import export_kind, head_of

        store = self.store
        first = {unit_of(key, self.path_of(key)): key for key in sorted(keys, reverse=True)}

        def kind_of(key: str) -> str:
            head, compressed = head_of(store.read_head(key, 65536))
            kind = export_kind(head)
            return "parquet.gz" if kind == "parquet" and compressed else kind

        with ThreadPoolExecutor(8) as pool:
            kinds = dict(zip(first, pool.map(kind_of, first.values()), strict=True))
        refuse_shapes(
            {first[unit]: kind for unit, kind in kinds.items()}, ["jsonl", "parquet"], "the Athena tables", _WAY_OUT
        )
        families = {key: _family(key, kinds[unit_of(key, self.path_of(key))]) for key in keys}
        _refuse_mixed_folders({**self.families, **families}, self.partition)
        return families

    def sql_text(self, query: exp.Expression) -> str:
        """The query against the Glue tables, as pasted into the Athena console."""
        tables = {
            logical: exp.table_(self.options.table_name(logical), db=self.options.database, quoted=True)
            for family in FAMILIES.values()
            for logical in (family.table, family.undated_table)
        }
        named = query.transform(
            lambda node: tables[node.name].copy() if isinstance(node, exp.Table) and node.name in tables else node
        )
        return named.sql(dialect="trino", pretty=True)

    def run(self, query: exp.Expression) -> pl.DataFrame:
        text = self.sql_text(query)
        stored = self._stored(text)
        if stored is not None:
            return stored
        if self.dry_run:
            raise NotRun(text)
        result = self._execute(text)
        if self.results_dir is not None:
            sink = io.BytesIO()
            result.write_parquet(sink)
            write_atomic(self._result_path(text), sink.getvalue())
        return result

    def _result_path(self, text: str) -> Path:
        assert self.results_dir is not None
        return self.results_dir / f"{hashlib.sha256(text.encode()).hexdigest()}.parquet"

    def _stored(self, text: str) -> pl.DataFrame | None:
        if self.results_dir is None:
            return None
        try:
            return pl.read_parquet(self._result_path(text))
        except (OSError, pl.exceptions.PolarsError):
            return None

    def _execute(self, text: str) -> pl.DataFrame:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "QueryString": text,
            "WorkGroup": self.options.workgroup,
            "QueryExecutionContext": {"Database": self.options.database},
        }
        if self.options.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.options.output_location}
        try:
            execution = self.client.start_query_execution(**request)["QueryExecutionId"]
            try:
                self._wait(execution)
            except QueryTimeout as exc:
                raise AthenaError(f"{exc}; {self._stop(execution)}") from None
            except BaseException:  # abandoned (interrupted, the server stopping): never left running and billed
                self._stop(execution)
                raise
            return self._fetch_results(execution)
        except ClientError as exc:
            raise AthenaError(_client_error_sentence(exc)) from None
        except BotoCoreError as exc:
            endpoint = str(getattr(self.client.meta, "endpoint_url", "Athena"))
            sentence = unreached(exc, "Athena", endpoint, "AWS_ENDPOINT_URL_ATHENA")
            raise AthenaError(sentence or f"the Athena request failed: {one_line(str(exc))}") from None

    def _wait(self, execution: str) -> None:
        deadline = time.monotonic() + self.options.timeout_seconds
        pause = POLL_FIRST
        while True:
            status = self.client.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                raise AthenaError(_failed_sentence(state, status.get("StateChangeReason", ""), self.options))
            if time.monotonic() > deadline:
                raise QueryTimeout(
                    f"the Athena query {execution} took longer than {self.options.timeout_seconds:.0f} s; "
                    "try a shorter date range"
                )
            self.sleep(pause)
            pause = min(pause * 2, POLL_MAX)

    def _stop(self, execution: str) -> str:
        """StopQueryExecution for a query nobody waits for any more (Athena bills a query until it ends); what
        happened, as the end of a sentence."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.stop_query_execution(QueryExecutionId=execution)
        except (ClientError, BotoCoreError) as exc:
            return f"it could not be stopped ({one_line(str(exc))}): stop it in the Athena console"
        return "it was stopped, so it is billed no further"

    def _fetch_results(self, execution: str) -> pl.DataFrame:
        pages = self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution)
        names: list[str] = []
        types: list[pl.DataType] = []
        rows: list[list[str | None]] = []
        for number, page in enumerate(pages):
            result = page["ResultSet"]
            if number == 0:
                info = result["ResultSetMetadata"]["ColumnInfo"]
                names = [c["Name"] for c in info]
                types = [TYPES.get(c["Type"].lower(), pl.String()) for c in info]
            data = result["Rows"][1:] if number == 0 else result["Rows"]  # the first row repeats the header
            rows.extend([cell.get("VarCharValue") for cell in row["Data"]] for row in data)
        frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String()), orient="row")
        return frame.cast(dict(zip(names, types, strict=True)))


def _family(key: str, kind: str) -> str:
    if kind != "parquet":
        return JSON.name  # JSON Lines, or an empty export
    return EVENTS.name if route_of(execution_of(key)) == EVENT_ROUTE else PARQUET.name


def _refuse_mixed_folders(families: dict[str, str], partition: Any) -> None:
    """A Parquet table fails on any file in its folders that is not Parquet: a run-date folder holding a Parquet
    export (for one without date folders: its flow's folder, which the undated table reads whole) must hold
    nothing else. That happens when a flow's file type was changed on a day it ran twice."""
    folders: dict[tuple[str, str | None], dict[str, str]] = {}  # (flow, run date) -> family -> an export
    for key, name in sorted(families.items()):
        folders.setdefault(partition(key), {}).setdefault(name, key)
    for (flow, run_date), found in sorted(folders.items(), key=str):
        read = found if run_date is not None else {
            n: k for (f, _day), names in folders.items() if f == flow for n, k in names.items()
        }  # fmt: skip
        for name, key in found.items():
            other = next((k for n, k in sorted(read.items()) if n != name), None)
            if name != JSON.name and other is not None:
                folder = f"{flow}/{run_date}" if run_date else flow
                raise DataError(
                    f"the folder {folder} holds Parquet exports ({key}) and others ({other}), and Athena's "
                    "Parquet tables read every file of a folder as Parquet: move one run's folder out of the source "
                    "prefix (the flow's file type changed on a day it ran), or use --engine duckdb or --engine local"
                )


def _client_error_sentence(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    operation = getattr(exc, "operation_name", "")
    if code in ("AccessDeniedException", "AccessDenied") or "not authorized" in message:
        return (
            f"access denied: the app's AWS identity may not call athena:{operation} (or read the exports / write the "
            "results location); grant it the policy in tracking/athena.yaml"
        )
    if code == "InvalidRequestException" and "WorkGroup" in message:
        return f"the Athena workgroup is missing or disabled: {message}"
    return f"Athena refused the query ({code}): {message}"


def _failed_sentence(state: str, reason: str, options: AthenaOptions) -> str:
    if state == "CANCELLED":
        return "the Athena query was cancelled (in the console or by a workgroup limit); run the view again"
    lowered = reason.lower()
    newer = [options.table_name(t) for f in (PARQUET, EVENTS) for t in (f.table, f.undated_table)]
    stale = f"'{RUN_DATE}'" in lowered or "customevent_" in lowered or options.undated_table.lower() in lowered
    stale = stale or any(f"'{field}'" in lowered for field in EVENT_ONLY_FIELDS)  # in every table now
    stale = stale or any(name.lower() in lowered for name in newer)
    if stale and ("cannot be resolved" in lowered or "not_found" in lowered or "does not exist" in lowered):
        return (
            f"the Glue tables in {options.database} come from an older tracking/athena.yaml (no run-date partitions, "
            f"no {options.undated_table} table, no Parquet tables or no {LAYOUT_FIELD} and {TEMPLATE_FIELD} columns); "
            f"deploy the current one (Athena said: {reason})"
        )
    if "does not exist" in lowered or "table_not_found" in lowered or "schema_not_found" in lowered:
        return (
            f"the Glue table {options.database}.{options.table} does not exist; deploy tracking/athena.yaml "
            f"(Athena said: {reason})"
        )
    if "access denied" in lowered or "permission" in lowered:
        return f"Athena could not read the exports or write its results: {reason}"
    return f"the Athena query failed: {reason}"
