"""tracking/bigquery/heatmap_daily.sql, transpiled by sqlglot to DuckDB, on a table with GA4's nested export schema.

The events are written the way GA4's BigQuery export stores `hm_view` flushes of tag v2 (tracking/README.md,
"Event route"): scalar parameters in whichever value field GA chose, packs as strings. The expected rows are
worked out by hand in the comments; a page view's flushes are combined before squaring (exact seconds²).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from heatmap.contract import LAYOUT_BREAKPOINTS, Bounds, layout_buckets
from tracking import build

ROOT = Path(__file__).resolve().parents[1]
SQL = (ROOT / "tracking" / "bigquery" / "heatmap_daily.sql").read_text(encoding="utf-8")
SCHEDULED = (ROOT / "tracking" / "bigquery" / "heatmap_daily.scheduled.sql").read_text(encoding="utf-8")
DAY, BEFORE = "20261101", "20261031"

SCHEMA = """CREATE TABLE ga4_events (
  event_date VARCHAR, event_timestamp BIGINT, event_name VARCHAR,
  event_params STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE,
                                                 double_value DOUBLE))[],
  user_pseudo_id VARCHAR, device STRUCT(category VARCHAR),
  session_traffic_source_last_click STRUCT(cross_channel_campaign STRUCT(default_channel_group VARCHAR))
)"""


def param(key: str, value: Any, as_: str | None = None) -> dict[str, Any]:
    """One event_params entry; GA stores numbers as int_value or double_value, text as string_value."""
    kind = as_ or (
        "int_value" if isinstance(value, int) else "double_value" if isinstance(value, float) else "string_value"
    )
    slot = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    slot[kind] = value
    return {"key": key, "value": slot}


def hm_view(
    user: str,
    pv: str | None,
    seq: Any,
    packs: list[str],
    *,
    day: str = DAY,
    ts: int = 0,
    device: str = "desktop",
    channel: str = "Organic Search",
    session: int = 1,
    width: Any = 1440,
    url: str = "https://shop.example/pricing?ref=ad",
    version: Any = 2,
    name: str = "hm_view",
    template: str | None = None,
) -> dict[str, Any]:
    params = [param("page_location", url), param("ga_session_id", 1700000000), param("ga_session_number", session)]
    params += [param("hm_v", version), param("hm_seq", seq), param("hm_w", width), param("hm_h", 3000)]
    if template is not None:
        params.append(param("hm_tpl", template))
    if pv is not None:
        params.append(param("hm_pv", pv))
    params += [param(f"hm_p{i}", pack) for i, pack in enumerate(packs, start=1)]
    return {
        "event_date": day,
        "event_timestamp": ts,
        "event_name": name,
        "event_params": params,
        "user_pseudo_id": user,
        "device": {"category": device},
        "session_traffic_source_last_click": {"cross_channel_campaign": {"default_channel_group": channel}},
    }


EVENTS = [
    # a1: two flushes (the visitor came back to the tab): band 1 has 5.0 s then 2.0 s more -> 7.0 s, 49 s².
    hm_view("u1", "a1", 0, ["d0:50,50,30", "c12.40,12.40"], ts=1),
    hm_view("u1", "a1", 1.0, ["d1:20;5:10"], ts=2),  # seq arrives as a double
    # a3: the same visitor's next page view, width sent as a string.
    hm_view("u1", "a3", 0, ["d0:10"], ts=3, width="1440"),
    # b2: a page view spilled over two events (seq 0 and 1), seq 0 delivered twice by GA.
    hm_view("u2", "b2", 0, ["d0:40,40"], ts=4, device="mobile", channel="Direct", session=3, width=390),
    hm_view("u2", "b2", 0, ["d0:40,40"], ts=5, device="mobile", channel="Direct", session=3, width=390),
    hm_view("u2", "b2", 1, ["d2:40", "c50.10"], ts=6, device="mobile", channel="Direct", session=3, width=390),
    # p0: began yesterday; its later flush today belongs to yesterday's rows, not today's.
    hm_view("u3", "p0", 0, ["d0:30"], ts=7, day=BEFORE),
    hm_view("u3", "p0", 1, ["d0:30"], ts=8),
    # rejected whole and counted: a forged band, garbage packing, an unknown version, no page-view id, a huge y.
    hm_view("u4", "z9", 0, ["d0:10;5000:10"], ts=9),
    hm_view("u5", "g1", 0, ["dxyz"], ts=10),
    hm_view("u6", "v3", 0, ["d0:10"], ts=11, version=3),
    hm_view("u7", None, 0, ["d0:10"], ts=12),
    hm_view("u8", "y1", 0, ["d0:10", "c10.99999"], ts=13),
    # not ours
    hm_view("u1", "a1", 0, ["d0:999"], ts=14, name="page_view"),
]

DESKTOP = ("desktop", "Organic Search", "new", "1440-1919", "(not set)")
MOBILE = ("mobile", "Direct", "returning", "360-767", "(not set)")
REJECTED = ("(not set)", "hm_view_rejected", None, None, None, *["(not set)"] * 5)
EXPECTED = {
    # (page, event, band, x, y, *segment, layout, template): (eventCount, seconds, seconds²)
    ("/pricing", "hm_dwell", 0, None, None, *DESKTOP): (2, 6.0, 26.0),  # a1 5.0 s + a3 1.0 s; 25 + 1
    ("/pricing", "hm_dwell", 1, None, None, *DESKTOP): (1, 7.0, 49.0),  # 5.0 + 2.0 in one page view
    ("/pricing", "hm_dwell", 2, None, None, *DESKTOP): (1, 3.0, 9.0),
    ("/pricing", "hm_dwell", 5, None, None, *DESKTOP): (1, 1.0, 1.0),
    ("/pricing", "hm_click", None, 12, 40, *DESKTOP): (2, 0.0, 0.0),
    ("/pricing", "hm_dwell", 0, None, None, *MOBILE): (1, 4.0, 16.0),  # the duplicate delivery counts once
    ("/pricing", "hm_dwell", 1, None, None, *MOBILE): (1, 4.0, 16.0),
    ("/pricing", "hm_dwell", 2, None, None, *MOBILE): (1, 4.0, 16.0),
    ("/pricing", "hm_click", None, 50, 10, *MOBILE): (1, 0.0, 0.0),
    REJECTED: (5, 0.0, 0.0),
}


#: heatmap.heatmap_daily as tracking/README.md creates it (BigQuery types as DuckDB's).
TABLE_COLUMNS = (
    "date DATE, pagePath VARCHAR, eventName VARCHAR, hm_band BIGINT, hm_x BIGINT, hm_y BIGINT,"
    " deviceCategory VARCHAR, sessionDefaultChannelGroup VARCHAR, newVsReturning VARCHAR, hm_layout VARCHAR,"
    " hm_template VARCHAR, eventCount BIGINT, hm_seconds DOUBLE, hm_seconds_sq DOUBLE, hm_route VARCHAR"
)


def duckdb_sql(text: str) -> str:
    return sqlglot.transpile(text, read="bigquery", write="duckdb")[0]


def sql_output_columns(text: str) -> list[str]:
    """The output column names of the query's outermost SELECT (its aliases), parsed by sqlglot."""
    return sqlglot.parse_one(text, read="bigquery").named_selects


def _events_db(events: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(SCHEMA)
    for event in events:
        con.execute(
            "INSERT INTO ga4_events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event[k] for k in ("event_date", "event_timestamp", "event_name", "event_params", "user_pseudo_id",
                                "device", "session_traffic_source_last_click")],
        )  # fmt: skip
    return con


def run(events: list[dict[str, Any]], start: str, end: str) -> list[tuple[Any, ...]]:
    return _events_db(events).execute(duckdb_sql(SQL), {"from_date": start, "to_date": end}).fetchall()


def as_dict(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    out = {}
    for row in rows:
        assert row[14] == "event"
        out[row[1:11]] = row[11:14]
    return out


def test_rows_are_the_hand_computed_sums() -> None:
    rows = run(EVENTS, DAY, DAY)
    assert {row[0] for row in rows} == {date(2026, 11, 1)}
    assert as_dict(rows) == EXPECTED


def test_yesterday_is_rewritten_with_its_late_flush() -> None:
    """The 72-hour rewrite: run again over both days, p0 (begun yesterday) counts yesterday with both flushes."""
    rows = run(EVENTS, BEFORE, DAY)
    yesterday = {r[1:11]: r[11:14] for r in rows if r[0] == date(2026, 10, 31)}
    assert yesterday == {("/pricing", "hm_dwell", 0, None, None, *DESKTOP): (1, 6.0, 36.0)}  # (3.0 + 3.0)²
    assert as_dict([r for r in rows if r[0] == date(2026, 11, 1)]) == EXPECTED


def test_numbers_do_not_depend_on_the_value_field_ga_chose() -> None:
    as_strings = [
        {**e, "event_params": [param(p["key"], str(next(v for v in p["value"].values() if v is not None)), "string_value")
                               for p in e["event_params"]]}
        for e in EVENTS
    ]  # fmt: skip
    assert as_dict(run(as_strings, DAY, DAY)) == EXPECTED


def test_events_with_one_timestamp_stay_apart_and_exact_copies_count_once() -> None:
    """GA stamps the events of one batch alike: a spill-over (seq 0 and 1 in the same millisecond) is two flushes;
    a delivery twice, identical to the last field, is one; a rejected page view delivered twice counts once."""
    first = hm_view("u1", "s1", 0, ["d0:10", "c5.5"], ts=7)
    spill = hm_view("u1", "s1", 1, ["d1:20"], ts=7)
    forged = hm_view("u2", "f1", 0, ["d0:10"], ts=7, version=3)
    rows = as_dict(run([first, spill, first, forged, forged], DAY, DAY))
    assert rows == {
        ("/pricing", "hm_dwell", 0, None, None, *DESKTOP): (1, 1.0, 1.0),
        ("/pricing", "hm_dwell", 1, None, None, *DESKTOP): (1, 2.0, 4.0),
        ("/pricing", "hm_click", None, 5, 5, *DESKTOP): (1, 0.0, 0.0),
        REJECTED: (1, 0.0, 0.0),
    }


def test_flagged_clicks_are_clicks_and_rows_of_their_flag() -> None:
    """'r' rage, 'd' dead, both, or a reserved letter (ignored): each click counts once as hm_click, and once more
    per flag it carries, at its own cell; 'f' (fixed or sticky, viewport coordinates) is hm_fixed instead."""
    flags = hm_view("u1", "r1", 0, ["d0:10", "c12.40r,12.40r,12.40rd,30.5d,30.5,60.7x,95.3f,95.3fr"], ts=1)
    rows = as_dict(run([flags], DAY, DAY))
    assert rows == {
        ("/pricing", "hm_dwell", 0, None, None, *DESKTOP): (1, 1.0, 1.0),
        ("/pricing", "hm_click", None, 12, 40, *DESKTOP): (3, 0.0, 0.0),
        ("/pricing", "hm_click", None, 30, 5, *DESKTOP): (2, 0.0, 0.0),
        ("/pricing", "hm_click", None, 60, 7, *DESKTOP): (1, 0.0, 0.0),
        ("/pricing", "hm_rage", None, 12, 40, *DESKTOP): (3, 0.0, 0.0),
        ("/pricing", "hm_dead", None, 12, 40, *DESKTOP): (1, 0.0, 0.0),
        ("/pricing", "hm_dead", None, 30, 5, *DESKTOP): (1, 0.0, 0.0),
        ("/pricing", "hm_fixed", None, 95, 3, *DESKTOP): (2, 0.0, 0.0),
    }


def test_the_declared_template_is_the_first_flushs_trimmed_key() -> None:
    """hm_tpl -> hm_template: trimmed, cut at GA's 100 characters, '(not set)' when absent or blank; a page view's
    first flush names it (as it names the page and the segment)."""
    views = [
        hm_view("u1", "t1", 0, ["d0:10"], ts=1, template=" job detail "),
        hm_view("u1", "t1", 1, ["d0:10"], ts=2, template="other"),  # a later flush does not change the page view
        hm_view("u2", "t2", 0, ["d0:20"], ts=3, template="   "),
        hm_view("u3", "t3", 0, ["d0:30"], ts=4),
        hm_view("u4", "t4", 0, ["d0:40"], ts=5, template="k" * 120),
    ]
    rows = as_dict(run(views, DAY, DAY))
    plain = DESKTOP[:-1]
    assert rows == {
        ("/pricing", "hm_dwell", 0, None, None, *plain, "job detail"): (1, 2.0, 4.0),  # 1.0 + 1.0 s, squared after
        ("/pricing", "hm_dwell", 0, None, None, *plain, "(not set)"): (2, 5.0, 13.0),  # 2² + 3²
        ("/pricing", "hm_dwell", 0, None, None, *plain, "k" * 100): (1, 4.0, 16.0),
    }


def test_the_worked_example_of_the_tracking_readme() -> None:
    """Two flushes of one page view: band 10 gets 3.2 s + 2.0 s, so 5.2² = 27.04 s², not 3.2² + 2.0²."""
    first = hm_view("u1", "k3f9x2a1", 0, ["d0:50,50,50,50,50,50,50,50;10:32,32,32,32,32,32,32,32", "c30.68"])
    second = hm_view("u1", "k3f9x2a1", 1, ["d10:20,20,20,20,20,20,20,20"], ts=1)
    rows = as_dict(run([first, second], DAY, DAY))
    assert rows[("/pricing", "hm_dwell", 10, None, None, *DESKTOP)] == (1, 5.2, pytest.approx(27.04))
    assert rows[("/pricing", "hm_dwell", 7, None, None, *DESKTOP)] == (1, 5.0, 25.0)
    assert rows[("/pricing", "hm_click", None, 30, 68, *DESKTOP)] == (1, 0.0, 0.0)
    assert len(rows) == 8 + 8 + 1


def test_bounds_in_the_sql_are_the_contract_defaults() -> None:
    bounds = Bounds()
    begin = SQL.index("BEGIN BOUNDS")
    block = SQL[begin : SQL.index("END BOUNDS", begin)]
    assert f"band 0-{bounds.max_band}" in block and f"click y 0-{bounds.max_click_y}" in block
    assert f"band > {bounds.max_band}" in SQL and f"y > {bounds.max_click_y}" in SQL
    assert f"> {int(bounds.max_seconds_per_event * 10)}" in SQL
    assert f"LENGTH(page) > {bounds.max_page_length}" in SQL


def test_layout_buckets_are_the_contracts_at_every_edge() -> None:
    """hm_layout: the CASE written by tracking/build.py from contract.layout_buckets(), checked at each edge."""
    cases: list[tuple[Any, str]] = [(None, "(not set)"), (0, "(not set)"), (-5, "(not set)"), ("abc", "(not set)")]
    for low, high, label in layout_buckets():
        cases += [(max(low, 1), label), (99_999 if high is None else high - 1, label)]
    events = [hm_view(f"u{n}", f"w{n}", 0, ["d0:10"], ts=n, width=w) for n, (w, _label) in enumerate(cases)]
    page_views = Counter[str]()
    for row in run(events, DAY, DAY):
        page_views[row[9]] += row[11]
    assert page_views == Counter(label for _w, label in cases)
    labels = [label for _low, _high, label in layout_buckets()]
    assert labels[0] == "0-359" and labels[-1] == "1920+" and len(labels) == len(LAYOUT_BREAKPOINTS) + 1


def test_layouts_block_is_rewritten_from_the_contract() -> None:
    drifted = SQL.replace("'1920+'", "'2000+'")
    assert drifted != SQL and build.render_heatmap_sql(drifted) == SQL
    assert all(f"'{label}'" in SQL for _low, _high, label in layout_buckets())


def test_output_columns_are_the_tables() -> None:
    """The final SELECT's aliases are tracking/build.py's EVENT_COLUMNS, in order (the scheduled INSERT's list,
    the AppFlow flows' fields, the table of tracking/README.md's `bq mk`)."""
    assert sql_output_columns(SQL) == list(build.EVENT_COLUMNS)
    readme = (ROOT / "tracking" / "README.md").read_text(encoding="utf-8")
    (schema,) = re.findall(r"heatmap\.heatmap_daily \\\n\s+(\S+)", readme)
    assert [column.split(":")[0] for column in schema.split(",")] == list(build.EVENT_COLUMNS)


def test_scheduled_script_rewrites_the_last_days_with_the_same_select() -> None:
    """The scheduled script (written by tracking/build.py from heatmap_daily.sql) deletes the days it rewrites
    and inserts exactly the query's rows, each in its column; run on DuckDB with the days as literals."""
    assert "INTERVAL 3 DAY" in SCHEDULED and "INTERVAL 1 DAY" in SCHEDULED
    assert SCHEDULED.index("BEGIN TRANSACTION;") < SCHEDULED.index("DELETE FROM heatmap.heatmap_daily")
    assert SCHEDULED.index("INSERT INTO heatmap.heatmap_daily") < SCHEDULED.index("COMMIT TRANSACTION;")
    body = SCHEDULED[SCHEDULED.index("DELETE FROM") : SCHEDULED.index("COMMIT TRANSACTION;")]
    body = re.sub(r"\bfrom_date\b", f"'{DAY}'", re.sub(r"\bto_date\b", f"'{DAY}'", body))
    assert "@" not in body
    con = _events_db(EVENTS)
    con.execute("CREATE SCHEMA heatmap")
    con.execute(f"CREATE TABLE heatmap.heatmap_daily ({TABLE_COLUMNS})")
    stale = [
        "2026-11-01",
        "/old",
        "hm_dwell",
        0,
        None,
        None,
        "desktop",
        "Direct",
        "new",
        "(not set)",
        "(not set)",
        9,
        9.0,
        81.0,
    ]
    kept = ["2026-10-30", *stale[1:]]
    con.executemany("INSERT INTO heatmap.heatmap_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'event')",
                    [stale, kept])  # fmt: skip
    for statement in sqlglot.transpile(body, read="bigquery", write="duckdb"):
        con.execute(statement)
    table = con.execute("SELECT * FROM heatmap.heatmap_daily").fetchall()
    assert sorted(table, key=repr) == sorted(
        [*run(EVENTS, DAY, DAY), (date(2026, 10, 30), *kept[1:], "event")], key=repr
    )


def _event_route_export(folder: Path) -> None:
    con = duckdb.connect()
    rows = run(EVENTS, DAY, DAY)
    con.execute(f"CREATE TABLE out ({TABLE_COLUMNS})")
    con.executemany("INSERT INTO out VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"COPY out TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)")


def _report_route_export(folder: Path) -> None:
    """The same visits as GA4's report (AppFlow JSON Lines, string values) when GA folds nothing."""
    lines = []
    for (page, event, band, x, y, device, channel, visitor, *_event_only), (count, seconds, sq) in EXPECTED.items():
        lines.append(
            {
                "date": DAY, "pagePath": page, "eventName": event,
                "customEvent:hm_band": "(not set)" if band is None else f"{band:03d}",
                "customEvent:hm_x": "(not set)" if x is None else str(x),
                "customEvent:hm_y": "(not set)" if y is None else str(y),
                "deviceCategory": device, "sessionDefaultChannelGroup": channel, "newVsReturning": visitor,
                "eventCount": str(count), "customEvent:hm_seconds": str(seconds), "customEvent:hm_seconds_sq": str(sq),
            }
        )  # fmt: skip
    (folder / "part-00000").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def _bands(source: Path, *where: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "heatmap", "bands", "--source", str(source), "--page", "/pricing",
         "--from", "2026-11-01", "--to", "2026-11-01", "--no-cache", "--json",
         *[arg for w in where for arg in ("--where", w)]],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout))


def test_output_read_by_the_cli_equals_the_report_route(tmp_path: Path) -> None:
    """The query's rows as AppFlow writes them from BigQuery (Parquet, typed columns, dated layout) and the same
    visits through the report route: `python -m heatmap bands` gives the same answer, segment by segment."""
    sources = {}
    for route, write in (("event", _event_route_export), ("report", _report_route_export)):
        folder = tmp_path / route / "flow" / "2026" / "11" / "02" / "0e0e0e0e-0000-4000-8000-000000000001"
        folder.mkdir(parents=True)
        write(folder)
        sources[route] = tmp_path / route
    answer = _bands(sources["event"])
    assert answer["page_views"] == 3
    assert [(b["band"], b["page_views"], b["seconds_per_view"]) for b in answer["bands"]][:3] == [
        (0, 3, pytest.approx(10.0 / 3)),
        (1, 2, pytest.approx(11.0 / 3)),
        (2, 2, pytest.approx(7.0 / 3)),
    ]
    assert answer == _bands(sources["report"])
    assert _bands(sources["event"], "device=mobile") == _bands(sources["report"], "device=mobile")
