"""Every export shape and its edges, read into the same canonical rows."""

import gzip
import io
import json

import polars as pl
import pytest

from heatmap.contract import Bounds
from heatmap.fields import FieldMap
from heatmap.ingest.normalize import normalize
from heatmap.readers import read_export
from tests.exports import click, dwell, jsonl

FIELDS = FieldMap()
KEEP = set(FIELDS.column_roles())


def canonical(data: bytes, name: str = "f", fields: FieldMap = FIELDS):
    batch = read_export(data, name, set(fields.column_roles()))
    return normalize(batch, name, fields)


def rows(result) -> list[tuple]:
    return sorted(
        result.table.select("date", "page", "event", "band", "x", "y", "events", "seconds")
        .with_columns(pl.col("date").cast(pl.String), pl.col("page").cast(pl.String), pl.col("event").cast(pl.String))
        .iter_rows(),
        key=str,
    )


RECORDS = [dwell("20260105", "/a", 0, 10, 55.5), dwell("20260105", "/a", 1, 8, 20), click("20260105", "/a", 42, 7, 3)]
EXPECTED = [
    ("2026-01-05", "/a", "click", None, 42, 7, 3, 0.0),
    ("2026-01-05", "/a", "dwell", 0, None, None, 10, 55.5),
    ("2026-01-05", "/a", "dwell", 1, None, None, 8, 20.0),
]


def test_json_lines_with_string_values():
    assert rows(canonical(jsonl(RECORDS))) == EXPECTED


def test_json_lines_without_custom_event_prefix_and_with_numbers():
    plain = [{k.removeprefix("customEvent:"): v for k, v in r.items()} for r in RECORDS]
    plain[0]["eventCount"] = 10  # a number instead of a string
    assert rows(canonical(jsonl(plain))) == EXPECTED


def test_gzip_of_json_lines():
    assert rows(canonical(gzip.compress(jsonl(RECORDS)))) == EXPECTED


def test_csv_and_gzipped_csv():
    frame = pl.DataFrame(RECORDS)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    assert rows(canonical(buffer.getvalue())) == EXPECTED
    assert rows(canonical(gzip.compress(buffer.getvalue()))) == EXPECTED


def test_parquet_with_typed_and_string_columns():
    buffer = io.BytesIO()
    pl.DataFrame(RECORDS).with_columns(pl.col("eventCount").cast(pl.Int64)).write_parquet(buffer)
    assert rows(canonical(buffer.getvalue())) == EXPECTED


def test_json_array_fallback():
    assert rows(canonical(json.dumps(RECORDS).encode())) == EXPECTED


def ua_document(records: list[dict]) -> dict:
    dims = ["ga:date", "ga:pagePath", "ga:eventName", "ga:hm_band", "ga:hm_x", "ga:hm_y", "ga:deviceCategory"]
    keys = ["date", "pagePath", "eventName", "customEvent:hm_band", "customEvent:hm_x", "customEvent:hm_y"]
    return {
        "reports": [
            {
                "columnHeader": {
                    "dimensions": dims,
                    "metricHeader": {
                        "metricHeaderEntries": [
                            {"name": "ga:eventCount", "type": "INTEGER"},
                            {"name": "ga:hm_seconds", "type": "TIME"},
                        ]
                    },
                },
                "data": {
                    "rows": [
                        {
                            "dimensions": [r[k] for k in keys] + [r["deviceCategory"]],
                            "metrics": [{"values": [r["eventCount"], r["customEvent:hm_seconds"]]}],
                        }
                        for r in records
                    ],
                    "totals": [{"values": ["0", "0"]}],
                },
            }
        ]
    }


def test_universal_analytics_documents_several_per_file():
    text = json.dumps(ua_document(RECORDS[:2])) + "\n" + json.dumps(ua_document(RECORDS[2:]))
    assert rows(canonical(text.encode())) == EXPECTED


def test_universal_analytics_malformed_document_is_reported_and_rest_kept():
    text = json.dumps(ua_document(RECORDS[:2])) + "\n{not json\n" + json.dumps(ua_document(RECORDS[2:]))
    result = canonical(text.encode(), "ua.json")
    assert rows(result) == EXPECTED
    assert [(i.file, i.line) for i in result.issues] == [("ua.json", 2)]


def test_malformed_line_skipped_and_reported_with_its_line_number():
    data = jsonl(RECORDS[:1]) + b'{"date": "20260105", "pagePath":\n' + jsonl(RECORDS[1:])
    result = canonical(data, "exports/x.jsonl")
    assert rows(result) == EXPECTED
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert (issue.file, issue.line) == ("exports/x.jsonl", 2)
    assert "malformed JSON" in issue.reason


def test_bad_values_are_excluded_by_reason_with_sample_lines_and_blank_lines_counted():
    bad = [dwell("2026-1-5x", "/a", 0, 1, 1), dwell("20260105", "/a", "abc", 1, 1), dwell("20260105", "/a", 0, "-3", 1)]
    data = jsonl(RECORDS[:1]) + b"\n" + jsonl(bad)
    result = canonical(data, "f")
    last = Bounds().last_day().strftime("%Y%m%d")
    assert [(i.line, i.reason) for i in result.issues] == [
        (3, f"date is not a day from 20050101 to {last} in YYYYMMDD form")
    ]
    assert sorted((line, reason.split(" (")[0]) for _d, reason, _f, line in result.samples.iter_rows()) == [
        (4, "band is not a whole number from 0 to 999"),
        (5, "event count is not a whole number from 0 to 1,000,000,000"),
    ]
    assert result.excluded["rows"].sum() == 2
    assert result.table["events"].sum() == 10


def test_other_and_not_set_rows_are_excluded_and_counted():
    records = [
        *RECORDS,
        dwell("20260105", "(other)", 0, 5, 1),
        dwell("20260105", "(not set)", 0, 5, 1),
        dwell("20260105", "/a", "(other)", 5, 1),
        click("20260105", "/a", "(not set)", 3, 1),
        {**dwell("20260105", "/a", 0, 5, 1), "eventName": "page_view"},
    ]
    result = canonical(jsonl(records))
    assert rows(result) == EXPECTED
    excluded = {r: n for _d, r, n in result.excluded.iter_rows()}
    assert excluded == {
        "page is (other) or (not set)": 2,
        "band is (other) or (not set)": 1,
        "click position is (other) or (not set)": 1,
        "not a heatmap event": 1,
    }
    assert result.day_rows.row(0)[1] == 8  # every record read counts towards the day, excluded included


def test_unicode_page_paths():
    result = canonical(jsonl([dwell("20260105", "/求人/detail", 0, 4, 2)]))
    assert result.table["page"].cast(pl.String).to_list() == ["/求人/detail"]


@pytest.mark.parametrize("data", [b"", b"\n\n", gzip.compress(b"")])
def test_empty_files_give_no_rows_and_no_errors(data):
    result = canonical(data)
    assert result.table.is_empty() and result.issues == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
        (b"PAR1 not really parquet", "unreadable Parquet"),
        (b"\x00\x01\x02binary", "binary content"),
    ],
)
def test_corrupt_files_are_reported_not_raised(data, reason):
    result = canonical(data, "bad")
    assert result.table.is_empty()
    assert reason in result.issues[0].reason


def test_remapped_fields_for_a_site_with_its_own_names():
    fields = FieldMap.from_mapping(
        {"band": "scroll_band", "seconds": "dwell_s", "dwell_event": "section_dwell", "segments": "deviceCategory"}
    )
    record = {
        "date": "20260105",
        "pagePath": "/a",
        "eventName": "section_dwell",
        "customEvent:scroll_band": "3",
        "deviceCategory": "desktop",
        "eventCount": "7",
        "customEvent:dwell_s": "21",
    }
    result = canonical(jsonl([record]), fields=fields)
    assert result.table.columns[-4:] == ["deviceCategory", "events", "seconds", "seconds_sq"]
    assert result.table.select("band", "events", "seconds").row(0) == (3, 7, 21.0)


def test_missing_required_field_is_one_clear_issue():
    result = canonical(jsonl([{"date": "20260105", "pagePath": "/a", "eventCount": "1", "hm_band": "1"}]), "f")
    assert result.table.is_empty()
    assert "event_name" in result.issues[0].reason


def test_more_seconds_for_a_band_already_reported_add_seconds_not_page_views():
    # A visitor read band 0 for 12 s, switched tabs, came back for 5 s: the tag sends hm_dwell then hm_dwell_more.
    more = {**dwell("20260105", "/a", 0, 1, 5), "eventName": "hm_dwell_more"}
    result = canonical(jsonl([dwell("20260105", "/a", 0, 1, 12), more]))
    assert result.table["events"].sum() == 1
    assert result.table["seconds"].sum() == 17.0
