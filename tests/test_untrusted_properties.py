"""Property-based tests: every export byte and every row is untrusted (docs/contract.md, docs/statistics.md, issue 9).

Three groups:

1. Readers + normalize on hostile exports (arbitrary bytes, JSON Lines with any keys and values, CSV with wrong
   headers, gzip wrappers): they never raise, report what they drop, and every canonical row that comes out is
   within the default bounds of docs/contract.md.
2. Memory: gzip bombs and huge single lines, read in a subprocess under an address-space limit.
3. Engine: arbitrary in-bounds canonical rows give finite, consistent band tables and click grids.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import subprocess
import sys
import zlib
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from heatmap import contract
from heatmap.fields import FieldMap
from heatmap.ingest.normalize import normalize
from heatmap.readers import Issue, read_export
from heatmap.statistics.metrics import band_table, click_grid
from heatmap.table import schema

ROOT = Path(__file__).resolve().parents[1]
FIELDS = FieldMap()
KEEP = set(FIELDS.column_roles())
SEGMENTS = FIELDS.segments
NAME = "hostile-export"

# Default bounds of docs/contract.md (written out here on purpose: the test pins the numbers, not the implementation).
MAX_BAND = 999
MAX_X = 99
MAX_Y = 4_999
MAX_PAGE_LENGTH = 2_048
FIRST_DAY = date(2005, 1, 1)


def last_day() -> date:
    return date.today() + timedelta(days=2)


# No "explain" phase: re-running failures under a tracer costs more than the whole passing run.
PHASES = [phase for phase in Phase if phase is not Phase.explain]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES)
ENGINE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES)
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES)


# --- running the reader ------------------------------------------------------------------------------------


def read(data: bytes):
    """The path every export object takes: sniff + read, then normalize with the default field map."""
    return normalize(read_export(data, NAME, KEEP), NAME, FIELDS)


def check_shape(result) -> None:
    """Whatever the input: canonical rows of the canonical schema, and issues that name the file."""
    assert dict(result.table.schema) == schema(SEGMENTS)
    assert isinstance(result.issues, list)
    for issue in result.issues:
        assert isinstance(issue, Issue)
        assert issue.file == NAME
        assert isinstance(issue.reason, str) and issue.reason
        assert issue.line is None or (isinstance(issue.line, int) and issue.line >= 1)
    assert set(result.excluded.columns) >= {"date", "reason", "rows"}


def reported(result) -> int:
    """How many problems the result admits to: issues plus rows counted as excluded."""
    excluded = int(result.excluded["rows"].sum()) if result.excluded.height else 0
    return len(result.issues) + excluded


def row_tuples(table: pl.DataFrame) -> list[tuple]:
    return list(
        table.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String), pl.col("date").cast(pl.String))
        .select("date", "page", "event", "band", "x", "y", *SEGMENTS, "events", "seconds")
        .iter_rows()
    )


# Each bound of docs/contract.md, as "this canonical row is fine" (null counts as a violation unless allowed).
def _bound_checks() -> dict[str, pl.Expr]:
    dwell = pl.col("event") == "dwell"
    click = pl.col("event") == "click"
    return {
        "band 0-999 (or null) on dwell rows": ~dwell
        | pl.col("band").is_null()
        | pl.col("band").is_between(0, MAX_BAND),
        "x 0-99 on click rows": ~click | pl.col("x").is_between(0, MAX_X),
        "y 0-4999 on click rows": ~click | pl.col("y").is_between(0, MAX_Y),
        "events >= 0": pl.col("events") >= 0,
        "seconds finite and >= 0": pl.col("seconds").is_finite() & (pl.col("seconds") >= 0),
        "date 2005-01-01 .. today+2": pl.col("date").is_between(FIRST_DAY, last_day()),
        "page length <= 2048": pl.col("page").cast(pl.String).str.len_chars() <= MAX_PAGE_LENGTH,
    }


BOUNDS = list(_bound_checks())


def out_of_bounds(table: pl.DataFrame, bound: str) -> pl.DataFrame:
    ok = _bound_checks()[bound].fill_null(False)
    return table.filter(~ok)


def assert_in_bounds(table: pl.DataFrame, bound: str) -> None:
    bad = out_of_bounds(table, bound)
    shown = bad.with_columns(pl.col("page").cast(pl.String).str.slice(0, 40)).head(3).to_dicts() if bad.height else []
    assert bad.height == 0, f"{bad.height} row(s) break '{bound}': {shown}"


GOOD_DWELL = {
    "date": "20260105",
    "pagePath": "/a",
    "eventName": contract.DWELL_EVENT,
    "customEvent:hm_band": "000",
    "customEvent:hm_x": "(not set)",
    "customEvent:hm_y": "(not set)",
    "deviceCategory": "mobile",
    "sessionDefaultChannelGroup": "Direct",
    "newVsReturning": "new",
    "eventCount": "10",
    "customEvent:hm_seconds": "12.5",
}


# --- strategies: values ------------------------------------------------------------------------------------

REAL_NAMES = sorted(
    {
        variant
        for name in (*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS)
        for variant in (
            name,
            name.removeprefix("customEvent:"),
            "customEvent:" + name.removeprefix("customEvent:"),
            "ga:" + name.removeprefix("customEvent:"),
        )
    }
)
HOSTILE_TEXT = [
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "-50",
    "-1",
    "-0",
    "0",
    "99999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e300",
    "-1e300",
    "1e-300",
    "0.5",
    "5.0",
    "1_000",
    " 7",
    "7 ",
    "0x10",
    "１２",
    "",
    "(not set)",
    "(other)",
    "null",
    "true",
    "\x00",
    "\u202e",
    "9" * 40,
]
EVENT_NAMES = [contract.DWELL_EVENT, contract.DWELL_MORE_EVENT, contract.CLICK_EVENT, "page_view", "", "HM_DWELL"]

field_keys = st.one_of(st.sampled_from(REAL_NAMES), st.text(max_size=12))
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # json.dumps writes NaN / Infinity tokens for the non-finite ones, as a hostile writer may
    st.text(max_size=30),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(EVENT_NAMES),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)


@st.composite
def deep_json(draw) -> str:
    """A value nested up to several thousand levels, closed or (sometimes) truncated."""
    depth = draw(st.integers(min_value=1, max_value=6_000))
    kind = draw(st.sampled_from(["list", "object", "open"]))
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth


json_value_text = st.one_of(json_values.map(json.dumps), deep_json())


@st.composite
def record_line(draw) -> str:
    """One JSON object with any keys (real field names included, duplicates allowed) and any values."""
    keys = draw(st.lists(field_keys, max_size=12))
    return "{" + ",".join(json.dumps(key) + ":" + draw(json_value_text) for key in keys) + "}"


raw_line = st.one_of(
    record_line(),
    json_value_text,
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(max_size=200),
)


@st.composite
def jsonl_file(draw) -> bytes:
    lines = draw(st.lists(raw_line, max_size=8))
    ending = draw(st.sampled_from(["\n", "\r\n", ""]))
    return ("\n".join(lines) + ending).encode("utf-8", errors="surrogatepass")


# --- strategies: plausible records with hostile values (these reach normalize's output) --------------------


def ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


dates_text = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(ymd),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)).map(ymd),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat),
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.sampled_from(HOSTILE_TEXT),
)
pages = st.one_of(
    st.text(min_size=1, max_size=40).map(lambda s: "/" + s),
    st.integers(min_value=2_000, max_value=20_000).map(lambda n: "/" + "p" * n),
    st.sampled_from(["(not set)", "(other)", "", "/"]),
)
numeric_text = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=-10, max_value=12_000).map(str),
    st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}"),
    st.floats().map(repr),
    st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{1,5})?", fullmatch=True),
    st.sampled_from(HOSTILE_TEXT),
)


def _number_or_text(text: str) -> object:
    """The JSON number a foreign writer would put instead of GA's string (non-finite ones become NaN tokens)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# GA writes strings, a hostile or foreign writer numbers: both are read.
field_value = st.one_of(numeric_text, numeric_text.map(_number_or_text))


@st.composite
def plausible_record(draw) -> dict[str, object]:
    """A GA4 heatmap record (dwell or click) whose every value may be absurd, keyed with or without prefixes."""
    prefix = draw(st.sampled_from(["customEvent:", ""]))
    record: dict[str, object] = {
        "date": draw(dates_text),
        "pagePath": draw(pages),
        "eventName": draw(st.sampled_from(EVENT_NAMES[:3]) | st.sampled_from(EVENT_NAMES)),
        prefix + contract.BAND_PARAM: draw(field_value),
        prefix + contract.X_PARAM: draw(field_value),
        prefix + contract.Y_PARAM: draw(field_value),
        "eventCount": draw(field_value),
        prefix + contract.SECONDS_PARAM: draw(field_value),
    }
    for segment in SEGMENTS:
        if draw(st.booleans()):
            record[segment] = draw(st.text(max_size=10))
    return record


def to_jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode("utf-8", errors="surrogatepass")


def to_csv(records: list[dict[str, object]]) -> bytes:
    header: list[str] = []
    for record in records:
        header.extend(key for key in record if key not in header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(["" if record.get(key) is None else str(record.get(key)) for key in header])
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@st.composite
def plausible_export(draw) -> bytes:
    records = draw(st.lists(plausible_record(), min_size=1, max_size=12))
    data = draw(st.sampled_from([to_jsonl, to_csv]))(records)
    return gzip.compress(data) if draw(st.booleans()) else data


# --- strategies: CSV with wrong headers --------------------------------------------------------------------

csv_cells = st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE_TEXT), numeric_text)


@st.composite
def csv_file(draw) -> bytes:
    """A header of real and made-up names (duplicated, missing, empty) and ragged rows of any cells."""
    header = draw(st.lists(field_keys, max_size=12))
    rows = draw(st.lists(st.lists(csv_cells, max_size=14), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@st.composite
def ua_file(draw) -> bytes:
    """Something that sniffs as a Reporting API v4 document, with any structure inside."""
    body = draw(json_value_text)
    if draw(st.booleans()):
        body = '[{"columnHeader":' + body + ',"data":{"rows":' + draw(json_value_text) + "}}]"
    return ('{"reports":' + body + "}").encode("utf-8", errors="surrogatepass")


any_payload = st.one_of(
    st.binary(max_size=400),
    jsonl_file(),
    csv_file(),
    ua_file(),
    plausible_export(),
    st.binary(max_size=200).map(lambda b: b"PAR1" + b),
    json_values.map(lambda v: json.dumps(v).encode()),
)


# --- strategies: gzip wrappers -----------------------------------------------------------------------------


def members(payload: bytes, cuts: list[int]) -> bytes:
    """payload split at `cuts` into concatenated gzip members (what `cat a.gz b.gz` makes)."""
    edges = sorted({0, len(payload), *(min(c, len(payload)) for c in cuts)})
    return b"".join(gzip.compress(payload[a:b]) for a, b in pairwise(edges)) or gzip.compress(b"")


def compressed_zeros(size: int) -> bytes:
    """gzip of `size` zero bytes, built in 1 MB steps so the bomb never exists uncompressed here."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9, zlib.Z_RLE)  # ~1000:1, and fast
    chunk = bytes(1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(packer.compress(bytes(size % len(chunk))))
    parts.append(packer.flush())
    return b"".join(parts)


SMALL_BOMB = compressed_zeros(32 * 1024 * 1024)


@st.composite
def gzipped(draw) -> bytes:
    payload = draw(any_payload)
    packed = gzip.compress(payload)
    how = draw(st.sampled_from(["gzip", "truncated", "members", "trailing", "bomb-member", "corrupt"]))
    if how == "gzip":
        return packed
    if how == "truncated":
        return packed[: draw(st.integers(min_value=2, max_value=max(len(packed) - 1, 2)))]
    if how == "members":
        return members(payload, draw(st.lists(st.integers(min_value=0, max_value=len(payload)), max_size=3)))
    if how == "trailing":
        return packed + draw(st.binary(min_size=1, max_size=30))
    if how == "bomb-member":  # a small bomb (32 MB of zeros) behind a real member
        return packed + SMALL_BOMB
    at = draw(st.integers(min_value=10, max_value=max(len(packed) - 1, 10)))
    flipped = bytearray(packed)
    if at < len(flipped):
        flipped[at] ^= draw(st.integers(min_value=1, max_value=255))
    return bytes(flipped)


# --- 1. readers + normalize --------------------------------------------------------------------------------


@SETTINGS
@given(data=st.binary(max_size=2_000))
def test_arbitrary_bytes_never_raise(data):
    check_shape(read(data))


@SETTINGS
@given(data=jsonl_file())
def test_arbitrary_json_lines_never_raise(data):
    check_shape(read(data))


@SETTINGS
@given(data=jsonl_file())
def test_json_lines_that_do_not_become_rows_are_reported(data):
    result = read(data)
    lines = [line for line in data.splitlines() if line.strip()]
    if result.table.height < len(lines):  # whatever did not become a row was said out loud
        assert reported(result) > 0, f"{len(lines)} line(s), {result.table.height} row(s), nothing reported"


@FEW
@given(depth=st.integers(min_value=900, max_value=6_000), before=st.integers(min_value=0, max_value=3))
def test_deeply_nested_json_never_raises(depth, before):
    good = json.dumps(GOOD_DWELL)
    for line in ("[" * depth + "]" * depth, '{"date":' + "[" * depth + "]" * depth + "}", "[" * depth):
        data = "\n".join([good] * before + [line, good]).encode()
        result = read(data)
        check_shape(result)
        assert reported(result) > 0


@SETTINGS
@given(data=csv_file())
def test_csv_with_wrong_missing_or_duplicated_headers_never_raises(data):
    check_shape(read(data))


@SETTINGS
@given(data=csv_file())
def test_csv_records_that_do_not_become_rows_are_reported(data):
    result = read(data)
    try:
        rows = [row for row in csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline="")) if any(row)]
    except csv.Error:
        return  # not countable as CSV here: never raising is all that is checked
    records = rows[1:]  # after the header
    if result.table.height < len(records):  # a header without the needed fields must be said, not shrugged off
        assert reported(result) > 0, f"{len(records)} record(s), {result.table.height} row(s), nothing reported"


@FEW
@given(data=ua_file())
def test_hostile_reporting_api_documents_never_raise(data):
    check_shape(read(data))


@SETTINGS
@given(data=gzipped())
def test_gzip_wrapped_truncated_concatenated_and_bombed_never_raise(data):
    check_shape(read(data))


@FEW
@given(payload=plausible_export(), cuts=st.lists(st.integers(min_value=0, max_value=4_000), max_size=3))
def test_gzip_and_concatenated_members_read_like_the_plain_file(payload, cuts):
    payload = gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload
    plain = read(payload)
    for packed in (gzip.compress(payload), members(payload, cuts)):
        again = read(packed)
        assert Counter(row_tuples(again.table)) == Counter(row_tuples(plain.table))
        assert len(again.issues) == len(plain.issues)


@pytest.mark.parametrize("bound", BOUNDS)
@SETTINGS
@given(data=plausible_export())
def test_rows_out_of_normalize_are_within_bounds(bound, data):
    result = read(data)
    check_shape(result)
    assert_in_bounds(result.table, bound)


@pytest.mark.parametrize("bound", BOUNDS)
@FEW
@given(data=st.one_of(jsonl_file(), csv_file(), gzipped()))
def test_rows_from_arbitrary_input_are_within_bounds(bound, data):
    assert_in_bounds(read(data).table, bound)


# One hostile line never makes a file unreadable (docs/contract.md): the good records around it still load.


@st.composite
def good_record(draw) -> dict[str, str]:
    day = draw(st.dates(min_value=FIRST_DAY, max_value=date.today()))
    page = "/" + draw(st.text(alphabet="abcxyz/-_", max_size=12))
    events = draw(st.integers(min_value=0, max_value=10_000))
    if draw(st.booleans()):
        seconds = draw(st.floats(min_value=0, max_value=100, allow_nan=False)) * events  # <= 100 s per event
        record = {
            **GOOD_DWELL,
            "customEvent:hm_band": f"{draw(st.integers(min_value=0, max_value=MAX_BAND)):03d}",
            "customEvent:hm_seconds": str(seconds),
        }
    else:
        record = {
            **GOOD_DWELL,
            "eventName": contract.CLICK_EVENT,
            "customEvent:hm_band": "(not set)",
            "customEvent:hm_x": str(draw(st.integers(min_value=0, max_value=MAX_X))),
            "customEvent:hm_y": str(draw(st.integers(min_value=0, max_value=MAX_Y))),
            "customEvent:hm_seconds": "0",
        }
    return {**record, "date": ymd(day), "pagePath": page, "eventCount": str(events)}


hostile_line = st.one_of(
    record_line(),
    json_value_text,
    st.binary(min_size=1, max_size=200).map(lambda b: b.decode("latin-1")),
).filter(lambda line: "\n" not in line and "\r" not in line and line.strip())


def assert_good_rows_survive(good: list[dict[str, str]], bad: str, position: int) -> None:
    lines = [json.dumps(record) for record in good]
    lines.insert(position, bad)
    data = ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")
    expected = read(to_jsonl(good))
    assert not expected.issues and expected.table.height == len(good)
    result = read(data)
    check_shape(result)
    missing = Counter(row_tuples(expected.table)) - Counter(row_tuples(result.table))
    assert not missing, (
        f"good rows lost because of line {position + 1}: {list(missing)[:2]}; issues {result.issues[:2]}"
    )
    if result.table.height == len(good):
        assert reported(result) > 0, "the hostile line vanished without an issue or an exclusion"


@SETTINGS
@given(good=st.lists(good_record(), min_size=1, max_size=6), bad=hostile_line, data=st.data())
def test_one_hostile_line_after_the_first_never_loses_the_good_rows(good, bad, data):
    assert_good_rows_survive(good, bad, data.draw(st.integers(min_value=1, max_value=len(good))))


@SETTINGS
@given(good=st.lists(good_record(), min_size=1, max_size=6), bad=hostile_line)
def test_one_hostile_first_line_never_loses_the_good_rows(good, bad):
    assert_good_rows_survive(good, bad, 0)


# --- 2. memory: hostile inputs under an address-space limit ------------------------------------------------

ADDRESS_SPACE_LIMIT = 1536 * 1024**2

MEMORY_SCRIPT = """
import resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import json
from heatmap.fields import FieldMap
from heatmap.ingest.normalize import normalize
from heatmap.readers import read_export
fields = FieldMap()
with open(sys.argv[1], "rb") as handle:
    data = handle.read()
result = normalize(read_export(data, "hostile", set(fields.column_roles())), "hostile", fields)
del data
print(json.dumps({"rows": result.table.height, "issues": [issue.reason[:200] for issue in result.issues],
                  "excluded": int(result.excluded["rows"].sum()) if result.excluded.height else 0}))
"""


def run_limited(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(path), str(ADDRESS_SPACE_LIMIT)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "POLARS_MAX_THREADS": "2"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2_000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def good_line() -> bytes:
    return json.dumps(GOOD_DWELL).encode() + b"\n"


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    bomb = compressed_zeros(1024**3)  # 1 GB of zeros in about 1 MB
    contents = {
        "gzip-bomb": lambda: bomb,
        "gzip-bomb-second-member": lambda: gzip.compress(good_line()) + bomb,
        "brackets-50mb": lambda: b"[" * (50 * 1024**2),
        "good-line-then-brackets-50mb": lambda: good_line() + b"[" * (50 * 1024**2) + b"\n",
        "10mb-json-string": lambda: json.dumps("s" * (10 * 1024**2)).encode() + b"\n",
        "good-line-then-10mb-json-string": lambda: good_line() + json.dumps("s" * (10 * 1024**2)).encode() + b"\n",
        "10mb-page-path": lambda: json.dumps({**GOOD_DWELL, "pagePath": "/" + "p" * (10 * 1024**2)}).encode() + b"\n",
    }
    paths = {}
    for name, make in contents.items():
        paths[name] = folder / name
        paths[name].write_bytes(make())
    return paths


# name -> (rows expected, excluded + issues expected). A bomb is one problem with the whole object.
MEMORY_CASES = {
    "gzip-bomb": (0, 1),
    "gzip-bomb-second-member": (0, 1),
    "brackets-50mb": (0, 1),
    "good-line-then-brackets-50mb": (1, 1),
    "10mb-json-string": (0, 1),
    "good-line-then-10mb-json-string": (1, 1),
    "10mb-page-path": (0, 1),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", list(MEMORY_CASES))
def test_hostile_input_stays_within_memory(case, hostile_files):
    outcome = run_limited(hostile_files[case])
    rows, problems = MEMORY_CASES[case]
    assert (outcome["rows"], len(outcome["issues"]) + outcome["excluded"]) == (rows, problems), outcome


# --- 3. engine: arbitrary in-bounds canonical rows ---------------------------------------------------------


def canonical_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema(SEGMENTS), orient="row") if rows else pl.DataFrame(schema=schema(SEGMENTS))


def row_strategy(max_events: int, max_seconds: float):
    common = {
        "date": st.dates(min_value=FIRST_DAY, max_value=date(2030, 1, 1)),
        "page": st.sampled_from(["/", "/a", "/b"]),
        **{segment: st.sampled_from(["x", "y", "(not set)"]) for segment in SEGMENTS},
        "events": st.integers(min_value=0, max_value=max_events)
        | st.integers(min_value=0, max_value=1_000)
        | st.just(max_events),
    }
    dwell = st.fixed_dictionaries(
        {
            **common,
            "event": st.just("dwell"),
            "band": st.integers(min_value=0, max_value=MAX_BAND) | st.integers(min_value=0, max_value=4),
            "x": st.none(),
            "y": st.none(),
            "seconds": st.floats(min_value=0, max_value=max_seconds, allow_nan=False, allow_infinity=False)
            | st.just(max_seconds),
            "seconds_sq": st.none()
            | st.floats(min_value=0, max_value=max_seconds * 86_400.0, allow_nan=False, allow_infinity=False),
        }
    )
    click = st.fixed_dictionaries(
        {
            **common,
            "event": st.just("click"),
            "band": st.none(),
            "x": st.integers(min_value=0, max_value=MAX_X),
            "y": st.integers(min_value=0, max_value=MAX_Y) | st.integers(min_value=0, max_value=30),
            "seconds": st.just(0.0),
            "seconds_sq": st.just(0.0),
        }
    )
    return st.lists(st.one_of(dwell, click), max_size=25).map(
        lambda rows: [{name: row[name] for name in schema(SEGMENTS)} for row in rows]
    )


# Canonical rows are what normalize lets through (Bounds: at most 1e9 events per row, 86,400 s per event), so
# sums of millions of rows stay far inside Int64 and float range. Rows beyond that are not canonical.
ROWS = {"within bounds": row_strategy(1_000_000_000, 86_400.0 * 1_000_000_000)}


def assert_band_table_sound(rows: list[dict[str, object]]) -> None:
    table = band_table(canonical_frame(rows))
    bands = table.bands
    assert bands.height <= MAX_BAND + 1
    for column in bands.columns:
        values = bands[column].to_numpy().astype(np.float64)
        if column == "seconds_sq":  # null (unknown) where a band's rows lack seconds², finite where known
            known = (bands["sq_missing"] == 0).to_numpy()
            assert np.isnan(values[~known]).all() and np.isfinite(values[known]).all(), values.tolist()[:5]
            continue
        assert np.isfinite(values).all(), f"{column} is not finite: {values.tolist()[:5]}"
    assert (table.column("page_views") >= 0).all()
    reach, low, high = table.reach, table.column("reach_low"), table.column("reach_high")
    assert ((reach >= 0) & (reach <= 1)).all(), reach.tolist()
    assert (low <= reach).all() and (reach <= high).all(), list(zip(low, reach, high, strict=True))[:5]
    share = table.column("attention_share")
    if table.total_seconds > 0:
        assert math.isclose(float(share.sum()), 1.0, rel_tol=1e-9), float(share.sum())
    else:
        assert float(share.sum()) == 0.0
    json.dumps(table.to_json_dict(), allow_nan=False)


def assert_click_grid_sound(rows: list[dict[str, object]], page_views: int) -> None:
    grid = click_grid(canonical_frame(rows), page_views)
    assert grid.counts.ndim == 2 and grid.counts.shape[1] == MAX_X + 1
    assert grid.counts.shape[0] <= MAX_Y + 1
    assert (grid.counts >= 0).all()
    expected = sum(int(row["events"]) for row in rows if row["event"] == "click")
    assert grid.total == expected
    per_thousand = grid.per_thousand_views()
    assert np.isfinite(per_thousand).all() and (per_thousand >= 0).all()
    density = grid.density(css_width=1280.0)
    assert np.isfinite(density).all() and (density >= -1e-9).all()


@pytest.mark.parametrize("magnitude", list(ROWS))
@ENGINE
@given(data=st.data())
def test_band_table_of_any_canonical_rows_is_finite_and_consistent(magnitude, data):
    assert_band_table_sound(data.draw(ROWS[magnitude]))


@pytest.mark.parametrize("magnitude", list(ROWS))
@ENGINE
@given(data=st.data(), page_views=st.integers(min_value=0, max_value=10**12) | st.integers(0, 1_000))
def test_click_grid_of_any_canonical_rows_is_finite_and_bounded(magnitude, data, page_views):
    assert_click_grid_sound(data.draw(ROWS[magnitude]), page_views)
