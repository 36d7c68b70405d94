"""The SQL engines (docs/engines.md): DuckDB runs the Athena SQL here and must give the local engine's answers on
every kind of source; the Athena client flow is checked against botocore's Stubber; the SQL parses as Trino."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlglot
from botocore.stub import Stubber

from heatmap import contract
from heatmap.contract import Bounds
from heatmap.engines.athena import AthenaEngine, AthenaError, AthenaOptions
from heatmap.engines.duckdb_engine import DuckDBEngine
from heatmap.engines.local import load_dataset
from heatmap.errors import HeatmapError
from heatmap.fields import FieldMap
from heatmap.ingest.build import list_exports
from heatmap.statistics.metrics import band_table, click_grid
from heatmap.stores import LocalStore
from heatmap.stores.base import ObjectInfo
from heatmap.usecases.sources import open_engine
from tests.exports import click, dwell, jsonl, write

A = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a"
B = "flow/2026/01/08/0b7a1c3e-0000-4000-8000-00000000000b"
C = "flow/2026/01/09/0b7a1c3e-0000-4000-8000-00000000000c"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Held-out style cases: a re-export with revised numbers, a missing day, a unicode path, segments,
    (other) rows, forged bands and seconds, a malformed line, gzip, keys without `customEvent:`."""
    folder = tmp_path_factory.mktemp("src")
    write(folder, f"{A}/p0.jsonl", jsonl([dwell("20260105", "/p", 0, 10, 50), dwell("20260105", "/p", 1, 5, 20)]),
          modified=datetime(2026, 1, 6, 2))  # fmt: skip
    revised = [
        dwell("20260105", "/p", 0, 20, 100),
        dwell("20260105", "/p", 1, 10, 30),
        dwell("20260105", "/p", 2, 5, 10, deviceCategory="desktop"),
        dwell("20260105", "/求人/detail", 0, 7, 14.5, sessionDefaultChannelGroup="Email"),
        click("20260105", "/p", 40, 12, 4),
        click("20260105", "/p", 99, 0, 1, deviceCategory="desktop"),
        dwell("20260105", "(other)", 0, 9, 9),
        dwell("20260105", "/p", "99999999", 1, 1),
        dwell("20260105", "/p", 3, 1, "NaN"),
        click("20260105", "/p", 100, 3, 1),
    ]
    write(folder, f"{B}/p0.jsonl", jsonl(revised), modified=datetime(2026, 1, 8, 2))
    plain = [{k.removeprefix("customEvent:"): v for k, v in dwell("20260107", "/p", 0, 20, 40).items()}]
    write(folder, f"{B}/p1.jsonl.gz", jsonl(plain) + b"{bad\n" + jsonl([dwell("20260107", "/p", 1, 15, 30)]),
          modified=datetime(2026, 1, 8, 2), gzipped=True)  # fmt: skip
    write(folder, f"{C}/p0.jsonl", jsonl([dwell("20260109", "/求人/detail", 0, 3, 6.0, newVsReturning="returning")]),
          modified=datetime(2026, 1, 9, 2))  # fmt: skip
    return folder


def engines(folder: Path, tmp_path: Path) -> tuple:
    store = LocalStore(folder)
    local = load_dataset(store, cache_dir=tmp_path / "local")
    duck = DuckDBEngine(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "duck"))
    return local, duck


def every_engine(folder: Path, tmp_path: Path) -> tuple:
    """The local engine, DuckDB and Athena (the SQL it is sent run by a fake Athena on DuckDB) over one folder,
    and the fake (it records the SQL started)."""
    from tests.fixtures.athena import FakeAthena

    store = LocalStore(folder)
    objects = list_exports(store)
    local = load_dataset(store, cache_dir=tmp_path / "local")
    duck = DuckDBEngine(store, objects, FieldMap(), Bounds(), str(tmp_path / "duck"))
    fake = FakeAthena(store, objects, OPTIONS, "exports-bucket", "ga/", polls=1)
    athena = AthenaEngine("exports-bucket", "ga/", objects, FieldMap(), Bounds(), OPTIONS, None, fake,
                          sleep=lambda _s: None, store=store)  # fmt: skip
    return local, duck, athena, fake


def only_query(engine, *args):
    """The view's one query (a short view is never split)."""
    (query,) = engine.view_queries(*args)
    return query


def same_numbers(a: dict, b: dict) -> None:
    assert a["page_views"] == b["page_views"]
    assert [band["page_views"] for band in a["bands"]] == [band["page_views"] for band in b["bands"]]
    for x, y in zip(a["bands"], b["bands"], strict=True):
        assert x == pytest.approx(y, rel=1e-12)  # sums in another order differ in the last digit


VIEWS = [
    ("/p", date(2026, 1, 5), date(2026, 1, 9), {}),
    ("/p", date(2026, 1, 5), date(2026, 1, 5), {"deviceCategory": ["desktop"]}),
    ("/p", date(2026, 1, 7), date(2026, 1, 7), {"device": ["mobile"], "channel": ["Direct"]}),
    ("/求人/detail", date(2026, 1, 1), date(2026, 1, 31), {}),
    ("/求人/detail", date(2026, 1, 1), date(2026, 1, 31), {"visitor": ["returning"]}),
    ("/nope", date(2026, 1, 1), date(2026, 1, 31), {}),
]


def test_duckdb_gives_the_local_engines_catalog(source, tmp_path):
    local, duck = engines(source, tmp_path)
    ours, theirs = local.catalog.coverage(), duck.catalog.coverage()
    assert (
        theirs["days"]
        == ours["days"]
        == {
            "2026-01-05": {"rows": 10, "executions": 2, "route": "report"},
            "2026-01-07": {"rows": 2, "executions": 1, "route": "report"},
            "2026-01-09": {"rows": 1, "executions": 1, "route": "report"},
        }
    )
    assert theirs["missing_days"] == ours["missing_days"] == ["2026-01-06", "2026-01-08"]
    assert duck.catalog.pages() == local.catalog.pages() == [("/p", 40), ("/求人/detail", 10)]
    assert duck.catalog.segment_values == local.catalog.segment_values
    assert duck.catalog.winners == local.catalog.winners
    assert "note" in theirs and ours["excluded_rows"] == 4


@pytest.mark.parametrize(("page", "start", "end", "where"), VIEWS)
def test_duckdb_gives_the_local_engines_bands_and_clicks(source, tmp_path, page, start, end, where):
    local, duck = engines(source, tmp_path)
    ours, theirs = local.view(page, start, end, where), duck.view(page, start, end, where)
    same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
    assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()
    assert theirs.dwell["seconds_sq"].to_list() == ours.dwell["seconds_sq"].to_list()
    assert theirs.dwell["sq_missing"].to_list() == ours.dwell["sq_missing"].to_list()


def test_duckdb_on_the_demo_matches_local(demo_home, tmp_path):
    local, duck = engines(demo_home / "demo", tmp_path)
    assert duck.catalog.pages() == local.catalog.pages()
    page = local.catalog.pages()[1][0]
    days = local.catalog.days
    for where in ({}, {"deviceCategory": ["mobile"], "newVsReturning": ["returning"]}):
        same_numbers(
            band_table(duck.view(page, days[0], days[-1], where)).to_json_dict(),
            band_table(local.view(page, days[0], days[-1], where)).to_json_dict(),
        )


#: The event route's text columns (every other hm_ column of a typed export is a number).
TEXT_COLUMNS = (contract.LAYOUT_FIELD, contract.TEMPLATE_FIELD, contract.ROUTE_FIELD)


def rewritten(source: Path, folder: Path, shape: str) -> Path:
    """The held-out source with every export in another shape, same keys, times and records (a malformed JSON
    line has no CSV or Parquet form: it is left out, as every engine leaves it out of the JSON source)."""
    import csv
    import gzip
    import io
    import os

    import polars as pl

    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        data = path.read_bytes()
        lines = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).splitlines()
        records = [json.loads(line) for line in lines if line.startswith(b'{"')]
        if shape in ("parquet-plain", "parquet-events"):  # as the shipped flows and the event route name fields
            records = [{k.removeprefix("customEvent:"): v for k, v in r.items()} for r in records]
        keys = list(dict.fromkeys(k for r in records for k in r))
        if shape.startswith("csv"):
            text = io.StringIO()
            writer = csv.DictWriter(text, keys, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            out = text.getvalue().encode()
            out = gzip.compress(out) if shape == "csv.gz" else out
        else:
            frame = pl.DataFrame(records, schema=dict.fromkeys(keys, pl.String))
            if shape in ("parquet-typed", "parquet-events"):  # as the event route writes: typed, unset values null
                numbers = {"eventCount": pl.Int64, "customEvent:hm_seconds": pl.Float64, "hm_seconds": pl.Float64}
                frame = frame.with_columns(
                    pl.col(k).cast(numbers.get(k, pl.Int64), strict=False)
                    for k in keys
                    if k in numbers or ("hm_" in k and k not in TEXT_COLUMNS)
                )
                if shape == "parquet-events":
                    frame = frame.with_columns(pl.col("date").str.strptime(pl.Date, "%Y%m%d"))
            sink = io.BytesIO()
            frame.write_parquet(sink)
            out = sink.getvalue()
        relative = path.relative_to(source).as_posix()
        if shape == "parquet-events":  # under an event-route flow
            relative = relative.replace("flow/", "ga4-heatmap-events-daily/", 1)
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out)
        os.utime(target, (path.stat().st_atime, path.stat().st_mtime))
    return folder


@pytest.mark.parametrize("shape", ["csv", "csv.gz", "parquet", "parquet-typed"])
def test_duckdb_reads_csv_and_parquet_exports_as_the_local_engine_does(source, tmp_path, shape):
    """The held-out cases in every shape AppFlow writes: the same catalog and views on both engines, and the
    same views as the JSON Lines source (typed Parquet: the forged band and NaN seconds are typed values)."""
    folder = rewritten(source, tmp_path / "src", shape)
    local, duck = engines(folder, tmp_path)
    json_local = load_dataset(LocalStore(source), cache_dir=tmp_path / "json")
    assert duck.catalog.coverage()["days"] == local.catalog.coverage()["days"]
    assert duck.catalog.pages() == local.catalog.pages() == json_local.catalog.pages()
    assert duck.catalog.segment_values == local.catalog.segment_values
    for page, start, end, where in VIEWS:
        ours, theirs = local.view(page, start, end, where), duck.view(page, start, end, where)
        same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
        same_numbers(
            band_table(ours).to_json_dict(), band_table(json_local.view(page, start, end, where)).to_json_dict()
        )
        assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()
        assert theirs.dwell["sq_missing"].to_list() == ours.dwell["sq_missing"].to_list()


@pytest.mark.parametrize(
    ("data", "named"),
    [(b'{"reports": [{"columnHeader": {}}]}', "Universal Analytics"), (b'[{"date": "20260105"}]', "JSON arrays")],
)
def test_duckdb_names_an_export_shape_it_cannot_read_and_the_way_out(tmp_path, data, named):
    write(tmp_path / "src", f"{A}/p0.jsonl", jsonl([dwell("20260105", "/p", 0, 10, 50)]))
    write(tmp_path / "src", f"{B}/odd.json", data)
    store = LocalStore(tmp_path / "src")
    engine = DuckDBEngine(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "duck"))  # reads nothing
    with pytest.raises(HeatmapError) as raised:
        _ = engine.catalog
    message = str(raised.value)
    assert named in message and f"{B}/odd.json" in message and "--engine local" in message and "\n" not in message


def test_the_cli_answers_with_every_local_engine(source, tmp_path):
    from tests.test_cli import run

    answers = {}
    for name in ("local", "duckdb"):
        result = run("bands", "--source", str(source), "--page", "/p", "--from", "2026-01-05", "--to", "2026-01-07",
                     "--engine", name, "--json", "--cache-dir", str(tmp_path / name), env_home=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr
        answers[name] = json.loads(result.stdout)
    same_numbers(answers["duckdb"], answers["local"])
    shown = run("bands", "--source", str(source), "--page", "/p", "--engine", "duckdb", "--show-sql", env_home=tmp_path)
    assert shown.returncode == 0 and shown.stdout.lstrip().startswith("WITH")
    refused = run("bands", "--source", str(source), "--page", "/p", "--show-sql", env_home=tmp_path)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "--engine athena" in refused.stderr


def test_athena_needs_s3(source, tmp_path):
    from heatmap.config import Settings

    with pytest.raises(HeatmapError, match="reads exports in S3"):
        open_engine("athena", str(source), Settings(), str(tmp_path))


# --- Athena: the SQL and the client flow ------------------------------------------------------------------


OBJECTS = [
    ObjectInfo(f"{A}/p0.jsonl", 10, "e1", datetime(2026, 1, 6, 2, tzinfo=UTC)),
    ObjectInfo(f"{B}/p0.jsonl", 10, "e2", datetime(2026, 1, 8, 2, tzinfo=UTC)),
]
OPTIONS = AthenaOptions(database="heatmaps", table="exports", workgroup="wg", region="us-east-1", timeout_seconds=5)


def athena_client():
    import boto3

    return boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").client(
        "athena", region_name="us-east-1"
    )


def result_page(names: list[str], types: list[str], rows: list[list[str | None]], header: bool, token: str | None):
    page = {
        "ResultSet": {
            "Rows": ([{"Data": [{"VarCharValue": n} for n in names]}] if header else [])
            + [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows],
            "ResultSetMetadata": {"ColumnInfo": [{"Name": n, "Type": t} for n, t in zip(names, types, strict=True)]},
        }
    }
    if token:
        page["NextToken"] = token
    return page


def stub_query(stubber: Stubber, execution: str, states: list[str], pages: list[dict], reason: str = "") -> None:
    stubber.add_response("start_query_execution", {"QueryExecutionId": execution})
    for state in states:
        status = {"State": state, **({"StateChangeReason": reason} if reason else {})}
        stubber.add_response(
            "get_query_execution", {"QueryExecution": {"QueryExecutionId": execution, "Status": status}}
        )
    for page in pages:
        stubber.add_response("get_query_results", page)


COVERAGE = (["path", "day", "rows"], ["varchar", "varchar", "bigint"])
CATALOG = (["dimension", "value", "views", "rows"], ["varchar", "varchar", "bigint", "bigint"])
VIEW = (
    ["event", "band", "y", "x", "events", "seconds", "seconds_sq", "sq_missing"],
    ["varchar", "bigint", "bigint", "bigint", "bigint", "double", "double", "bigint"],
)


def athena_engine(stubber_setup, tmp_path, **kwargs) -> tuple[AthenaEngine, Stubber]:
    client = athena_client()
    stubber = Stubber(client)
    stubber_setup(stubber)
    stubber.activate()
    engine = AthenaEngine("exports-bucket", "ga/", OBJECTS, FieldMap(), Bounds(), OPTIONS, str(tmp_path), client,
                          sleep=lambda s: None, **kwargs)  # fmt: skip
    _ = engine.catalog  # its queries run on first use
    return engine, stubber


def catalog_queries(stubber: Stubber) -> None:
    path = f"s3://exports-bucket/ga/{B}/p0.jsonl"
    old = f"s3://exports-bucket/ga/{A}/p0.jsonl"
    rows = [[path, "20260105", "3"], [old, "20260105", "2"], [path, "20260107", "4"]]
    stub_query(stubber, "q1", ["QUEUED", "RUNNING", "SUCCEEDED"], [result_page(*COVERAGE, rows, True, None)])
    views = [["page", "/p", "20", "2"], ["deviceCategory", "mobile", "20", "2"]]
    stub_query(stubber, "q2", ["SUCCEEDED"], [result_page(*CATALOG, views, True, None)])


def test_athena_client_flow_with_paginated_results(tmp_path):
    def setup(stubber: Stubber) -> None:
        catalog_queries(stubber)
        cells = [["click", None, str(y), str(x), "1", "0", None, "0"] for y in range(15) for x in range(100)]
        first, rest = cells[:999], cells[999:]
        stub_query(stubber, "q3", ["RUNNING", "SUCCEEDED"], [
            result_page(*VIEW, [["dwell", "0", None, None, "20", "100.5", "900.25", "0"], *first], True, "t1"),
            result_page(*VIEW, rest, False, None),
        ])  # fmt: skip

    engine, stubber = athena_engine(setup, tmp_path)
    assert engine.catalog.days == [date(2026, 1, 5), date(2026, 1, 7)]
    assert engine.catalog.executions_per_day[date(2026, 1, 5)] == 2
    assert engine.catalog.winners[date(2026, 1, 5)] == B  # newest execution only
    assert engine.catalog.pages() == [("/p", 20)]
    sums = engine.view("/p", date(2026, 1, 5), date(2026, 1, 7), {"device": ["mobile"]})
    assert sums.dwell.row(0) == (0, 20, 100.5, 900.25, 0)
    assert click_grid(sums, 20).total == 1500  # > 1,000 result rows across two pages
    again = engine.view("/p", date(2026, 1, 5), date(2026, 1, 7), {"device": ["mobile"]})
    assert again.dwell.equals(sums.dwell)  # cached: no further call was stubbed
    stubber.assert_no_pending_responses()


def test_athena_view_sql_passes_winners_and_parses_as_trino(tmp_path):
    engine, _ = athena_engine(catalog_queries, tmp_path)
    text = engine.sql_text(only_query(engine, "/p'; DROP TABLE x; --", date(2026, 1, 5), date(2026, 1, 7), {}))
    parsed = sqlglot.parse_one(text, read="trino")
    assert '"heatmaps"."exports"' in text
    compact = sqlglot.parse_one(text, read="trino").sql(dialect="trino")
    assert f"('s3://exports-bucket/ga/{B}', '20260105', 1)" in compact  # winners by execution folder, not by file
    assert f"{A}" not in text  # the older execution's rows do not count for 5 January
    assert "'/p''; DROP TABLE x; --'" in text  # a value is a quoted literal, never SQL
    assert [t.name for t in parsed.find_all(sqlglot.exp.Table) if t.name == "exports"] == ["exports"]


@pytest.mark.parametrize(
    ("state", "reason", "message"),
    [
        ("FAILED", "TABLE_NOT_FOUND: line 1:8: Table 'awsdatacatalog.heatmaps.exports' does not exist",
         "the Glue table heatmaps.exports does not exist; deploy tracking/athena.yaml"),
        ("CANCELLED", "", "the Athena query was cancelled"),
        ("FAILED", "COLUMN_NOT_FOUND: line 9:5: Column 'run_date' cannot be resolved",
         "the Glue tables in heatmaps come from an older tracking/athena.yaml"),
        ("FAILED", "TABLE_NOT_FOUND: line 1:8: Table 'awsdatacatalog.heatmaps.exports_undated' does not exist",
         "the Glue tables in heatmaps come from an older tracking/athena.yaml"),
        ("FAILED", "COLUMN_NOT_FOUND: line 12:40: Column 'hm_template' cannot be resolved",
         "the Glue tables in heatmaps come from an older tracking/athena.yaml"),  # the report tables before hm_template
        ("FAILED", "Access denied when writing output to url 's3://results/'",
         "Athena could not read the exports or write its results"),
    ],
)  # fmt: skip
def test_athena_failures_are_one_sentence(tmp_path, state, reason, message):
    def setup(stubber: Stubber) -> None:
        stub_query(stubber, "q1", ["RUNNING", state], [], reason)

    with pytest.raises(AthenaError) as info:
        athena_engine(setup, tmp_path)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("code", "message"),
    [("AccessDeniedException", "access denied: the app's AWS identity may not call athena:StartQueryExecution"),
     ("ThrottlingException", "Athena refused the query (ThrottlingException)")],
)  # fmt: skip
def test_athena_client_errors_are_one_sentence(tmp_path, code, message):
    def setup(stubber: Stubber) -> None:
        stubber.add_client_error("start_query_execution", code, "no", http_status_code=400)

    with pytest.raises(AthenaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        athena_engine(setup, tmp_path)


def timed_out_engine(stubber_setup, tmp_path) -> None:
    """An engine whose time limit has passed at its first poll (no clock patched: other threads use time too)."""
    from dataclasses import replace

    client = athena_client()
    stubber = Stubber(client)
    stubber_setup(stubber)
    stubber.activate()
    engine = AthenaEngine("exports-bucket", "ga/", OBJECTS, FieldMap(), Bounds(), replace(OPTIONS, timeout_seconds=0),
                          str(tmp_path), client, sleep=lambda s: None)  # fmt: skip
    try:
        _ = engine.catalog
    finally:
        stubber.assert_no_pending_responses()


def test_athena_timeout_stops_the_query_once_and_says_so(tmp_path):
    def setup(stubber: Stubber) -> None:
        stub_query(stubber, "q1", ["RUNNING"], [])
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q1"})

    with pytest.raises(AthenaError, match="took longer than 0 s") as raised:
        timed_out_engine(setup, tmp_path)
    assert "it was stopped, so it is billed no further" in str(raised.value) and "\n" not in str(raised.value)


def test_an_abandoned_athena_query_is_stopped(tmp_path):
    """The waiting thread interrupted (Ctrl-C, the server shutting down): the query is stopped, not left billing."""

    def setup(stubber: Stubber) -> None:
        stub_query(stubber, "q1", ["RUNNING"], [])
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q1"})

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    client = athena_client()
    stubber = Stubber(client)
    setup(stubber)
    stubber.activate()
    with pytest.raises(KeyboardInterrupt):
        _ = AthenaEngine("exports-bucket", "ga/", OBJECTS, FieldMap(), Bounds(), OPTIONS, str(tmp_path), client,
                         sleep=interrupted).catalog  # fmt: skip
    stubber.assert_no_pending_responses()


def test_a_query_that_cannot_be_stopped_says_where_to_stop_it(tmp_path):
    def setup(stubber: Stubber) -> None:
        stub_query(stubber, "q1", ["RUNNING"], [])
        stubber.add_client_error("stop_query_execution", "AccessDeniedException", "not authorized")

    with pytest.raises(AthenaError, match=r"could not be stopped .*: stop it in the Athena console"):
        timed_out_engine(setup, tmp_path)


def test_athena_results_are_kept_on_disk_and_show_sql_runs_nothing(tmp_path):
    athena_engine(catalog_queries, tmp_path)
    engine, stubber = athena_engine(lambda stubber: None, tmp_path, dry_run=True)  # no response stubbed: no call
    assert engine.catalog.pages() == [("/p", 20)]
    text = engine.sql_text(only_query(engine, "/p", date(2026, 1, 5), date(2026, 1, 5), {}))
    assert "GROUP BY" in text
    stubber.assert_no_pending_responses()


# --- Run-date partitions, both key layouts, both spellings, the seconds² rule --------------------------------

UNDATED = "flow/0b7a1c3e-0000-4000-8000-00000000000d"  # the older layout: no run-date folders
DATED = "flow/2026/01/04/0b7a1c3e-0000-4000-8000-00000000000e"
BACKFILL = "backfill/2026/02/01/0b7a1c3e-0000-4000-8000-00000000000f"  # old GA dates, run on 1 February
PLAIN = "flow/2026/01/05/run-7"  # a tool writing `hm_band` (no `customEvent:`) and execution ids of its own


def with_sq(record: dict, squares: str) -> dict:
    return {**record, "customEvent:hm_seconds_sq": squares}


def plain(record: dict) -> dict:
    return {k.removeprefix("customEvent:"): v for k, v in record.items()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both layouts in one source: an older export without date folders, dated daily runs, a backfill of old GA
    dates written under the day it ran, plain keys; and seconds² the row's seconds cannot give (normalize's rule:
    10 views with 50 s have Σs² ≥ 250, less is unknown)."""
    folder = tmp_path_factory.mktemp("mixed")
    squares = [
        with_sq(dwell("20260102", "/p", 0, 10, 50), "250"),  # the smallest possible: kept
        with_sq(dwell("20260102", "/p", 1, 10, 50), "249.95"),  # within the tag's rounding: kept
        with_sq(dwell("20260102", "/p", 2, 10, 50), "0"),  # a report counting an older tag's events as 0
        with_sq(dwell("20260102", "/p", 3, 10, 50), "120"),  # less than (Σs)²/k: impossible
        with_sq(dwell("20260102", "/p", 4, 10, 50), "(not set)"),
        with_sq(dwell("20260102", "/p", 5, 3, 0), "0"),  # no seconds: 0 is possible
        with_sq(dwell("20260102", "/p", 6, 1, 2), "1"),  # one view of 2 s cannot have Σs² = 1: unknown
        with_sq(dwell("20260102", "/p", 6, 4, 8, deviceCategory="desktop"), "16"),  # exactly 8²/4
    ]
    old = [with_sq(dwell("20251231", "/p", 0, 7, 14), "28"), dwell("20260101", "/p", 0, 1, 1),
           dwell("20260102", "/p", 0, 1, 1)]  # fmt: skip
    write(folder, f"{UNDATED}/p0.jsonl", jsonl(old), modified=datetime(2026, 1, 3, 2))
    write(folder, f"{DATED}/p0.jsonl", jsonl([*squares, dwell("20260103", "/q", 0, 5, 5)]),
          modified=datetime(2026, 1, 4, 2))  # fmt: skip
    write(folder, f"{BACKFILL}/p0.jsonl", jsonl([with_sq(dwell("20260101", "/p", 0, 4, 20), "100.5")]),
          modified=datetime(2026, 2, 1, 9))  # fmt: skip
    plain_rows = [plain(with_sq(dwell("20260104", "/p", 0, 6, 30, newVsReturning="returning"), "150")),
                  plain(with_sq(dwell("20260104", "/p", 1, 6, 30), "5")), plain(click("20260104", "/p", 3, 4, 2))]  # fmt: skip
    write(folder, f"{PLAIN}/p0.jsonl", jsonl(plain_rows), modified=datetime(2026, 1, 5, 2))
    return folder


def test_partition_of_reads_both_layouts():
    from heatmap.engines.sql import partition_of

    today = date(2026, 3, 1)
    assert partition_of(f"{DATED}/p0.jsonl", today) == ("flow", "2026/01/04")
    assert partition_of(f"{UNDATED}/p0.jsonl", today) == ("flow", None)
    assert partition_of(f"{PLAIN}/p0.jsonl", today) == ("flow", "2026/01/05")
    assert partition_of("flow/2026/01/06/part.jsonl", today) == ("flow", "2026/01/06")  # files right in the day
    assert partition_of("flow/2026/02/30/x/part.jsonl", today) == ("flow", None)  # no such day: read by flow
    assert partition_of("flow/2026/03/02/x/part.jsonl", today) == ("flow", None)  # after today: not projected
    assert partition_of("flow/schemaVersion_1/2026/01/06/x/part.jsonl", today) == ("flow", None)
    assert partition_of("part.jsonl", today) == ("", None)


def test_both_layouts_give_the_local_engines_answers(mixed, tmp_path):
    local, duck = engines(mixed, tmp_path)
    assert duck.catalog.coverage()["days"] == local.catalog.coverage()["days"]
    assert (
        duck.catalog.winners
        == local.catalog.winners
        == {
            date(2025, 12, 31): UNDATED,
            date(2026, 1, 1): BACKFILL,  # the backfill run of February wins the old GA date
            date(2026, 1, 2): DATED,
            date(2026, 1, 3): DATED,
            date(2026, 1, 4): PLAIN,
        }
    )
    assert duck.catalog.pages() == local.catalog.pages()
    assert duck.catalog.segment_values == local.catalog.segment_values
    for start, end, where in [
        (date(2025, 12, 31), date(2026, 1, 31), {}),
        (date(2025, 12, 31), date(2025, 12, 31), {}),
        (date(2026, 1, 1), date(2026, 1, 1), {}),
        (date(2026, 1, 2), date(2026, 1, 2), {"device": ["desktop"]}),
        (date(2026, 1, 4), date(2026, 1, 4), {"visitor": ["returning"]}),
    ]:
        ours, theirs = local.view("/p", start, end, where), duck.view("/p", start, end, where)
        same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
        assert theirs.dwell["seconds_sq"].to_list() == ours.dwell["seconds_sq"].to_list()
        assert theirs.dwell["sq_missing"].to_list() == ours.dwell["sq_missing"].to_list()
        assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()


def test_seconds_squared_the_seconds_cannot_give_is_unknown_in_the_sql(mixed, tmp_path):
    local, duck = engines(mixed, tmp_path)
    for engine in (local, duck):
        sums = engine.view("/p", date(2026, 1, 2), date(2026, 1, 2), {})
        assert sums.dwell["band"].to_list() == [0, 1, 2, 3, 4, 5, 6]
        assert sums.dwell["sq_missing"].to_list() == [0, 0, 1, 1, 1, 0, 1], engine.name
        assert sums.dwell["seconds_sq"].to_list() == [250.0, 249.95, 0.0, 0.0, 0.0, 0.0, 16.0], engine.name
        plain_keys = engine.view("/p", date(2026, 1, 4), date(2026, 1, 4), {})  # `hm_seconds_sq` without prefix
        assert plain_keys.dwell["sq_missing"].to_list() == [0, 1] and plain_keys.dwell["seconds"].to_list() == [30, 30]
        assert click_grid(plain_keys, 20).total == 2


def test_a_view_reads_only_the_run_date_folders_of_its_winners(mixed, tmp_path):
    import shutil

    source = tmp_path / "src"
    shutil.copytree(mixed, source)
    store = LocalStore(source)
    duck = DuckDBEngine(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "duck"))
    read, total = duck.scanned_bytes(date(2026, 1, 1), date(2026, 1, 1))
    assert read == (source / BACKFILL / "p0.jsonl").stat().st_size < total
    assert duck.scanned_bytes(date(2025, 12, 31), date(2025, 12, 31))[0] == sum(
        p.stat().st_size for p in (source / "flow").rglob("*.jsonl")
    )  # a winner without date folders: its flow's folder is read whole, as Athena reads it
    assert duck.scanned_bytes() == (total, total)

    (source / DATED / "p0.jsonl").unlink()  # DuckDB opens files when a query runs: a pruned one is never opened
    assert duck.view("/p", date(2026, 1, 1), date(2026, 1, 1), {}).dwell["events"].to_list() == [4]
    assert duck.view("/p", date(2026, 1, 4), date(2026, 1, 4), {}).dwell["events"].to_list() == [6, 6]
    for start, end in [(date(2026, 1, 2), date(2026, 1, 2)), (date(2025, 12, 31), date(2025, 12, 31))]:
        with pytest.raises(HeatmapError, match="could not answer"):  # its own folder; the undated flow's whole
            duck.view("/p", start, end, {})


def test_athena_view_sql_names_only_the_winners_partitions(tmp_path):
    undated = f"{UNDATED}/p0.jsonl"
    objects = [
        ObjectInfo(undated, 100, "e0", datetime(2026, 1, 3, 2, tzinfo=UTC)),
        ObjectInfo(f"{DATED}/p0.jsonl", 200, "e1", datetime(2026, 1, 4, 2, tzinfo=UTC)),
        ObjectInfo(f"{BACKFILL}/p0.jsonl", 300, "e2", datetime(2026, 2, 1, 9, tzinfo=UTC)),
    ]

    def setup(stubber: Stubber) -> None:
        path = "s3://exports-bucket/ga/{}/p0.jsonl".format
        rows = [[path(UNDATED), "20251231", "1"], [path(UNDATED), "20260101", "1"], [path(DATED), "20260102", "8"],
                [path(BACKFILL), "20260101", "1"]]  # fmt: skip
        stub_query(stubber, "q1", ["SUCCEEDED"], [result_page(*COVERAGE, rows, True, None)])
        stub_query(stubber, "q2", ["SUCCEEDED"], [result_page(*CATALOG, [["page", "/p", "20", "2"]], True, None)])

    client = athena_client()
    stubber = Stubber(client)
    setup(stubber)
    stubber.activate()
    engine = AthenaEngine("exports-bucket", "ga/", objects, FieldMap(), Bounds(), OPTIONS, str(tmp_path), client,
                          sleep=lambda s: None)  # fmt: skip
    _ = engine.catalog
    stubber.assert_no_pending_responses()  # the two catalog queries ran; views below only build their SQL

    def compact(start: date, end: date) -> str:
        text = engine.sql_text(only_query(engine, "/p", start, end, {}))
        return sqlglot.parse_one(text, read="trino").sql(dialect="trino")

    backfilled = compact(date(2026, 1, 1), date(2026, 1, 1))
    assert "\"heatmaps\".\"exports\" WHERE (flow = 'backfill' AND run_date IN ('2026/02/01'))" in backfilled
    assert "exports_undated" not in backfilled and "2026/01/04" not in backfilled
    old = compact(date(2025, 12, 31), date(2026, 1, 2))
    assert "(flow = 'flow' AND run_date IN ('2026/01/04'))" in old
    unit = f"'s3://exports-bucket/ga/{UNDATED}'"  # its execution folder: a run of many files is one name
    assert (
        f'"heatmaps"."exports_undated" WHERE (flow = \'flow\' AND ("$path" IN ({unit}) OR '
        f'SUBSTR("$path", 1, LENGTH("$path") - STRPOS(REVERSE("$path"), \'/\')) IN ({unit})))' in old
    )
    assert engine.scanned_bytes(date(2026, 1, 1), date(2026, 1, 1)) == (300, 600)
    assert engine.scanned_bytes(date(2026, 1, 2), date(2026, 1, 2)) == (200, 600)


def test_winners_are_named_by_folder_so_many_files_keep_the_query_short(tmp_path):
    """AppFlow's "don't aggregate" writes many files per run: the winners list and the undated table's filter
    name a folder, not each file (Athena refuses query text over 256 KB). Files with no execution folder are each their own execution,
    so they are named by path: the older of two such files for one day must still not count."""
    folder = tmp_path / "src"
    run = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-0000000000aa"
    old_layout = "flow/0b7a1c3e-0000-4000-8000-0000000000bb"  # no run-date folders: the undated table reads it
    for i in range(40):
        write(folder, f"{run}/part-{i:03d}.jsonl", jsonl([dwell("20260105", "/p", 0, 1, 2.0)]),
              modified=datetime(2026, 1, 6, 2))  # fmt: skip
        write(folder, f"{old_layout}/part-{i:03d}.jsonl", jsonl([dwell("20260104", "/p", 0, 1, 2.0)]),
              modified=datetime(2026, 1, 5, 2))  # fmt: skip
    write(folder, "loose-old.jsonl", jsonl([dwell("20260110", "/p", 0, 100, 5.0)]), modified=datetime(2026, 1, 10, 1))
    write(folder, "loose-new.jsonl", jsonl([dwell("20260110", "/p", 0, 7, 5.0)]), modified=datetime(2026, 1, 10, 2))
    local, duck = engines(folder, tmp_path)
    start, end = date(2026, 1, 1), date(2026, 1, 31)
    ours, theirs = local.view("/p", start, end), duck.view("/p", start, end)
    same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
    assert band_table(theirs).page_views == 40 + 40 + 7
    units = {unit.rsplit("/", 1)[-1]: day for unit, day in duck._units(start, end)}
    assert units == {run.rsplit("/", 1)[-1]: "20260105", old_layout.rsplit("/", 1)[-1]: "20260104",
                     "loose-new.jsonl": "20260110"}  # fmt: skip
    text = duck.sql_text(only_query(duck, "/p", start, end))
    assert "part-0" not in text and "loose-old" not in text


def test_duckdb_over_a_remote_store_mirrors_each_object_in_its_own_folder(source, tmp_path):
    """Objects of a remote store (here in memory, like S3) are copied under the cache, one folder each, so the
    winners named by folder still name exactly the objects that count."""
    from heatmap.stores import MemoryStore

    store = MemoryStore()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        store.create(path.relative_to(source).as_posix(), path.read_bytes())
    local = load_dataset(store, cache_dir=tmp_path / "local")
    duck = DuckDBEngine(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "duck"))
    assert duck.catalog.winners == local.catalog.winners
    for page, start, end, where in VIEWS:
        ours, theirs = local.view(page, start, end, where), duck.view(page, start, end, where)
        same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
    folders = {Path(duck.path_of(o.key)).parent for o in duck.objects}
    assert len(folders) == len(duck.objects)


def test_athena_reads_only_a_new_objects_folder_after_the_first_catalog(tmp_path):
    """The second server with the same cache folder and one more export: two small queries, not two full ones."""
    athena_engine(catalog_queries, tmp_path)
    new = ObjectInfo(f"{C}/p0.jsonl", 10, "e3", datetime(2026, 1, 9, 2, tzinfo=UTC))
    client = athena_client()
    sent: list[str] = []
    client.meta.events.register(
        "provide-client-params.athena.StartQueryExecution", lambda params, **_: sent.append(params["QueryString"])
    )
    stubber = Stubber(client)
    path = f"s3://exports-bucket/ga/{C}/p0.jsonl"
    stub_query(stubber, "q3", ["SUCCEEDED"], [result_page(*COVERAGE, [[path, "20260109", "2"]], True, None)])
    stub_query(stubber, "q4", ["SUCCEEDED"], [result_page(*CATALOG, [["page", "/q", "5", "1"]], True, None)])
    stubber.activate()
    engine = AthenaEngine("exports-bucket", "ga/", [*OBJECTS, new], FieldMap(), Bounds(), OPTIONS, str(tmp_path),
                          client, sleep=lambda s: None)  # fmt: skip
    _ = engine.catalog
    stubber.assert_no_pending_responses()
    assert engine.catalog.pages() == [("/p", 20), ("/q", 5)]
    assert engine.catalog.winners[date(2026, 1, 9)] == C
    coverage, change = sent
    for text in (coverage, change):
        assert "'2026/01/09'" in text and "'2026/01/06'" not in text and "'2026/01/08'" not in text
    assert f"('{path}', '20260109', 1)" in sqlglot.parse_one(change, read="trino").sql(dialect="trino")


def test_a_view_too_long_for_one_query_is_summed_from_parts(tmp_path):
    """Years of runs name more winners than Athena takes in one query text (256 KB): the view and the catalog
    are split into queries over disjoint winners, whose sums add up to the same answers."""
    from datetime import timedelta

    folder = tmp_path / "src"
    first = date(2025, 1, 1)
    for n in range(300):
        run_day, ga_day = first + timedelta(days=n + 1), (first + timedelta(days=n)).strftime("%Y%m%d")
        rows = [dwell(ga_day, "/p", 0, 10 + n % 7, 20.0 + n), dwell(ga_day, "/p", 1 + n % 3, 5, 8.5),
                click(ga_day, "/p", n % 100, n % 40, 1 + n % 5), dwell(ga_day, "/q", 0, 1, 1.0, deviceCategory="desktop")]  # fmt: skip
        write(folder, f"flow/{run_day:%Y/%m/%d}/0b7a1c3e-0000-4000-8000-{n:012d}/p0.jsonl", jsonl(rows),
              modified=datetime(run_day.year, run_day.month, run_day.day, 2))  # fmt: skip

    class SmallQueries(DuckDBEngine):
        max_query_bytes = 15_000

    store = LocalStore(folder)
    local, whole = engines(folder, tmp_path)
    split = SmallQueries(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "split"))
    assert split.catalog.pages() == whole.catalog.pages() == local.catalog.pages()
    assert split.catalog.segment_values == whole.catalog.segment_values
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    queries = split.view_queries("/p", start, end)
    assert len(queries) > 2 and all(len(split.sql_text(q).encode()) <= 15_000 for q in queries)
    for where in ({}, {"device": ["mobile"]}):
        ours, parts, one = local.view("/p", start, end, where), split.view("/p", start, end, where), whole.view(
            "/p", start, end, where)  # fmt: skip
        same_numbers(band_table(parts).to_json_dict(), band_table(ours).to_json_dict())
        assert parts.dwell.equals(one.dwell) and parts.clicks.equals(one.clicks)
        assert (click_grid(parts, 1).counts == click_grid(ours, 1).counts).all()


class SlowAthena:
    """An Athena client that takes a few polls per query and counts the queries it was asked to start."""

    def __init__(self) -> None:
        import threading

        self.started: list[str] = []
        self.polls: dict[str, int] = {}
        self.lock = threading.Lock()

    def start_query_execution(self, QueryString: str, **_: object) -> dict:
        with self.lock:
            self.started.append(QueryString)
            return {"QueryExecutionId": f"q{len(self.started)}"}

    def get_query_execution(self, QueryExecutionId: str) -> dict:
        with self.lock:
            self.polls[QueryExecutionId] = self.polls.get(QueryExecutionId, 0) + 1
            state = "SUCCEEDED" if self.polls[QueryExecutionId] > 3 else "RUNNING"
        return {"QueryExecution": {"Status": {"State": state}}}

    def get_paginator(self, _name: str):
        client = self

        class Pages:
            def paginate(self, QueryExecutionId: str):
                text = client.started[int(QueryExecutionId[1:]) - 1]
                return [result_page(*(CATALOG if "AS dimension" in text else VIEW), [], True, None)]

        return Pages()


def test_eight_sessions_asking_one_query_start_it_once(tmp_path):
    """Eight threads (the sessions of one server share its engine) ask the same view at once: Athena runs one
    query, and every thread gets its answer."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    client = SlowAthena()
    engine = AthenaEngine("exports-bucket", "ga/", [], FieldMap(), Bounds(), OPTIONS, None, client,
                          sleep=lambda _s: time.sleep(0.05))  # fmt: skip
    _ = engine.catalog
    before = len(client.started)
    gate = threading.Barrier(8)

    def ask(_n: int):
        gate.wait()
        return engine.view("/p", date(2026, 1, 5), date(2026, 1, 9))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert len(client.started) - before == 1
    assert all(a.dwell.equals(answers[0].dwell) for a in answers)


def test_constructing_an_engine_does_no_io(source, tmp_path):
    """Nothing is read, copied or queried until the catalog is first asked for (then exactly once)."""
    from heatmap.stores import MemoryStore

    class Counting(MemoryStore):
        reads = 0

        def read(self, key: str) -> bytes:
            Counting.reads += 1
            return super().read(key)

    store = Counting()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        store.create(path.relative_to(source).as_posix(), path.read_bytes())
    duck = DuckDBEngine(store, list_exports(store), FieldMap(), Bounds(), str(tmp_path / "duck"))
    client = SlowAthena()
    athena = AthenaEngine("exports-bucket", "ga/", OBJECTS, FieldMap(), Bounds(), OPTIONS, None, client)
    assert Counting.reads == 0 and not client.started and not (tmp_path / "duck").exists()
    assert duck.catalog.pages() == [("/p", 40), ("/求人/detail", 10)]
    assert Counting.reads == len(duck.objects)
    assert duck.catalog is duck.catalog and Counting.reads == len(duck.objects)
    assert athena.name == "athena" and not client.started


def test_athena_refuses_csv_exports_in_one_sentence_and_reads_parquet(tmp_path):
    """A flow set to CSV: the first export of each new run folder is looked at (its first bytes only), and the
    sentence names the shape and the ways out instead of a source that seems empty. Parquet is read (its own
    tables); a run-date folder holding Parquet and JSON Lines, which a Parquet table cannot read, is refused."""
    import io
    from typing import ClassVar

    import polars as pl

    from heatmap.stores import MemoryStore

    class Heads(MemoryStore):
        heads: ClassVar[list[str]] = []

        def read_head(self, key: str, size: int) -> bytes:
            Heads.heads.append(key)
            return super().read_head(key, size)

    sink = io.BytesIO()
    pl.DataFrame([dwell("20260107", "/p", 0, 1, 1)]).write_parquet(sink)
    store = Heads()
    store.create(f"{A}/p0.jsonl", jsonl([dwell("20260105", "/p", 0, 10, 50)]))
    store.create(f"{A}/p1.jsonl", jsonl([dwell("20260105", "/p", 1, 5, 20)]))
    store.create(f"{B}/p0.parquet", sink.getvalue())
    store.create(f"{C}/p0.csv", b"date,pagePath,eventName\n20260108,/p,hm_dwell\n")
    listing = list(store.list(""))
    client = SlowAthena()

    def refusal(objects: list) -> str:
        engine = AthenaEngine("exports-bucket", "ga/", objects, FieldMap(), Bounds(), OPTIONS, None, client,
                              store=store)  # fmt: skip
        with pytest.raises(HeatmapError) as raised:
            _ = engine.catalog
        assert "\n" not in str(raised.value) and not client.started
        return str(raised.value)

    message = refusal(listing)
    assert "are CSV" in message and f"{C}/p0.csv" in message and "Parquet" in message and "--engine duckdb" in message
    assert sorted(Heads.heads) == [f"{A}/p0.jsonl", f"{B}/p0.parquet", f"{C}/p0.csv"]
    store.create(f"{A}-rerun/p0.parquet", sink.getvalue())  # the same run-date folder, after a change of file type
    message = refusal([o for o in store.list("") if not o.key.endswith(".csv")])
    assert "flow/2026/01/06" in message and f"{A}-rerun/p0.parquet" in message and f"{A}/p0.jsonl" in message
    fine = AthenaEngine("exports-bucket", "ga/", listing[:3], FieldMap(), Bounds(), OPTIONS, None, client, store=store,
                        sleep=lambda _s: None)  # fmt: skip
    assert fine.catalog.pages() == [] and client.started  # JSON Lines and Parquet: the queries run
    assert fine.families == {f"{A}/p0.jsonl": "json", f"{A}/p1.jsonl": "json", f"{B}/p0.parquet": "parquet"}
    assert any('"exports_parquet"' in text for text in client.started)


@pytest.mark.parametrize("shape", ["jsonl", "parquet-plain", "parquet-events"])
def test_the_athena_engine_gives_the_local_engines_answers_through_a_fake_athena(source, tmp_path, shape):
    """The Athena engine end to end (its text against the Glue tables of each format, polling, pages of results,
    types) with DuckDB executing exactly what it sends: the held-out cases as JSON Lines, as the report flows'
    Parquet (strings) and as the event route's (typed) give the local engine's catalog and views."""
    from tests.fixtures.athena import FakeAthena

    folder = source if shape == "jsonl" else rewritten(source, tmp_path / "src", shape)
    store = LocalStore(folder)
    objects = list_exports(store)
    fake = FakeAthena(store, objects, OPTIONS, "exports-bucket", "ga/", polls=2)
    athena = AthenaEngine("exports-bucket", "ga/", objects, FieldMap(), Bounds(), OPTIONS, None, fake,
                          sleep=lambda _s: None, store=store)  # fmt: skip
    local = load_dataset(store, cache_dir=tmp_path / "local")
    assert athena.catalog.coverage()["days"] == local.catalog.coverage()["days"]
    assert athena.catalog.pages() == local.catalog.pages()
    assert athena.catalog.segment_values == local.catalog.segment_values
    for page, start, end, where in VIEWS:
        ours, theirs = local.view(page, start, end, where), athena.view(page, start, end, where)
        same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
        assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()
        assert theirs.dwell["seconds_sq"].to_list() == pytest.approx(ours.dwell["seconds_sq"].to_list(), rel=1e-12)
    table = {"jsonl": '"heatmaps"."exports"', "parquet-plain": '"heatmaps"."exports_parquet"',
             "parquet-events": '"heatmaps"."exports_events"'}[shape]  # fmt: skip
    assert all(table in text for text in fake.started) and not fake.stopped
