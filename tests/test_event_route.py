"""The event route's exports (tracking/bigquery/heatmap_daily.sql through the `-events-*` flows, typed Parquet) in
the same bucket as the report route's: for a GA date both exported, the event route counts, whatever their ages,
because the report folds what did not fit GA4's summary tables into "(other)" and the event route misses nothing."""

import io
from datetime import UTC, date, datetime

import polars as pl

from heatmap import contract
from heatmap.contract import Bounds
from heatmap.engines.duckdb_engine import DuckDBEngine
from heatmap.engines.local import load_dataset
from heatmap.fields import FieldMap
from heatmap.ingest.build import list_exports
from heatmap.ingest.executions import group_executions, route_of, winners
from heatmap.statistics.metrics import band_table, click_grid
from heatmap.stores import LocalStore, MemoryStore
from heatmap.stores.base import ObjectInfo
from tests.exports import all_rows, click, dwell, jsonl, write

REPORT = "exports/heatmap-daily/0b7a1c3e-0000-4000-8000-00000000000a"
REPORT_LATER = "exports/heatmap-backfill/0b7a1c3e-0000-4000-8000-00000000000c"
EVENTS = "exports/heatmap-events-daily/0b7a1c3e-0000-4000-8000-00000000000b"


def _at(day: int) -> datetime:
    return datetime(2026, 1, day, 2, tzinfo=UTC)


def event_parquet(records: list[dict]) -> bytes:
    """Records as the events flow writes them: plain column names, integers typed, plus hm_layout and hm_route."""
    rows = []
    for record in records:
        row = {key.removeprefix("customEvent:"): value for key, value in record.items()}
        row["eventCount"] = int(row["eventCount"])
        row["hm_seconds"] = float(row["hm_seconds"])
        row[contract.LAYOUT_FIELD] = "1000-1279"
        row[contract.ROUTE_FIELD] = contract.EVENT_ROUTE
        rows.append(row)
    out = io.BytesIO()
    pl.DataFrame(rows).write_parquet(out)
    return out.getvalue()


def test_route_of_an_execution_is_read_from_its_flow_folder():
    assert route_of(EVENTS) == contract.EVENT_ROUTE
    assert route_of("p/heatmap-events-backfill/x") == contract.EVENT_ROUTE
    assert route_of(REPORT) == contract.REPORT_ROUTE
    assert route_of("heatmap-events-daily") == contract.EVENT_ROUTE, "a flow folder holding its files directly"
    assert route_of("single.jsonl") == contract.REPORT_ROUTE
    assert route_of("p/my-events-daily-notes/x") == contract.REPORT_ROUTE, "only a whole folder name counts"


def test_an_event_execution_wins_over_a_newer_report_execution():
    objects = [ObjectInfo(f"{EVENTS}/a.parquet", 1, "e1", _at(6)), ObjectInfo(f"{REPORT}/a.jsonl", 1, "e2", _at(8))]
    days = {EVENTS: {date(2026, 1, 5)}, REPORT: {date(2026, 1, 5), date(2026, 1, 7)}}
    assert winners(days, group_executions(objects)) == {date(2026, 1, 5): EVENTS, date(2026, 1, 7): REPORT}


def mixed_store() -> MemoryStore:
    store = MemoryStore()
    # 5 January: the report (folded, smaller numbers) was re-run after the event route exported the day.
    store.create(f"{REPORT}/part-0.jsonl", jsonl([dwell("20260104", "/p", 0, 4, 8)]), last_modified=_at(5))
    store.create(
        f"{REPORT_LATER}/part-0.jsonl",
        jsonl([dwell("20260105", "/p", 0, 3, 9), click("20260105", "/p", 10, 4, 1)]),
        last_modified=_at(9),
    )
    store.create(
        f"{EVENTS}/part-0.parquet",
        event_parquet(
            [dwell("20260105", "/p", 0, 10, 40), dwell("20260105", "/p", 1, 6, 12), click("20260105", "/p", 10, 4, 3)]
        ),
        last_modified=_at(6),
    )
    return store


def test_the_event_exports_are_read_and_count_for_their_day():
    dataset = load_dataset(mixed_store())
    table = all_rows(dataset)
    jan5 = table.filter(pl.col("date") == date(2026, 1, 5))
    assert jan5.filter(pl.col("event") == "dwell")["events"].sum() == 16
    assert jan5.filter(pl.col("event") == "dwell")["seconds"].sum() == 52.0
    assert jan5.filter(pl.col("event") == "click")["events"].sum() == 3
    assert table.filter(pl.col("date") == date(2026, 1, 4))["events"].sum() == 4, "the report still counts alone"
    catalog = dataset.catalog
    assert catalog.route_by_day == {date(2026, 1, 4): contract.REPORT_ROUTE, date(2026, 1, 5): contract.EVENT_ROUTE}
    # the report's export of 5 January is superseded, not a re-export: one execution of the route that counts
    assert catalog.executions_per_day[date(2026, 1, 5)] == 1
    assert catalog.coverage()["days"]["2026-01-05"] == {"rows": 3, "executions": 1, "route": contract.EVENT_ROUTE}
    assert catalog.excluded_rows == 0


def test_duckdb_decides_the_route_as_the_local_engine_does(tmp_path):
    """The events flow's typed Parquet read by DuckDB itself."""
    for info in mixed_store().list(""):
        write(
            tmp_path / "src", info.key, mixed_store().read(info.key), modified=info.last_modified.replace(tzinfo=None)
        )
    local_store = LocalStore(tmp_path / "src")
    duck = DuckDBEngine(local_store, list_exports(local_store), FieldMap(), Bounds(), str(tmp_path / "duck"))
    local = load_dataset(local_store, cache_dir=tmp_path / "local")
    assert duck.catalog.route_by_day == local.catalog.route_by_day
    assert duck.catalog.route_by_day[date(2026, 1, 5)] == contract.EVENT_ROUTE
    ours, theirs = (
        local.view("/p", date(2026, 1, 4), date(2026, 1, 5), {}),
        duck.view("/p", date(2026, 1, 4), date(2026, 1, 5), {}),
    )
    assert band_table(theirs).to_json_dict() == band_table(ours).to_json_dict()
    assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()
    assert click_grid(ours, 1).counts.sum() == 3


def test_data_health_shows_each_days_route():
    from heatmap.ui.health_page import day_status

    frame = day_status(load_dataset(mixed_store()).catalog)
    assert frame.select("day", "status", "route").rows() == [
        (date(2026, 1, 4), "present", contract.REPORT_ROUTE),
        (date(2026, 1, 5), "present", contract.EVENT_ROUTE),
    ]
