"""Forged GA rows (docs/contract.md: every row is untrusted): each is excluded whole, counted by reason, and the valid
rows' numbers stay exactly what they are without it. Through the CLI, as a user meets them."""

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from heatmap.fields import FieldMap
from heatmap.ingest.normalize import normalize
from heatmap.readers import read_export
from heatmap.readers.base import MAX_ISSUES_PER_OBJECT
from tests.exports import all_rows, click, dwell, jsonl, write

ROOT = Path(__file__).resolve().parents[1]
VALID = [
    dwell("20260105", "/p", 0, 10, 50),
    dwell("20260105", "/p", 1, 6, 30),
    click("20260105", "/p", 40, 12, 4),
]
EXECUTION = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a"


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "HEATMAP_HOME": str(home)}
    env.pop("HEATMAP_SOURCE", None)
    return subprocess.run(
        [sys.executable, "-m", "heatmap", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )


def answers(folder: Path, home: Path) -> tuple[dict, dict]:
    """(coverage, bands) as strict JSON: parsing with NaN/Infinity refused."""

    def strict(text: str) -> dict:
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))

    coverage = cli("coverage", "--source", str(folder), "--json", home=home)
    assert coverage.returncode == 0, coverage.stderr
    bands = cli("bands", "--source", str(folder), "--page", "/p", "--from", "2026-01-05", "--to", "2026-01-05",
                "--json", home=home)  # fmt: skip
    assert bands.returncode == 0, bands.stderr
    return strict(coverage.stdout), strict(bands.stdout)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("clean")
    write(folder, f"{EXECUTION}/part-0.jsonl", jsonl(VALID))
    return answers(folder, tmp_path_factory.mktemp("home"))[1]


FORGED = {
    "huge band": (dwell("20260105", "/p", "99999999", 1, 1), "band is not a whole number from 0 to 999"),
    "negative band": (dwell("20260105", "/p", "-3", 1, 1), "band is not a whole number"),
    "huge click y": (click("20260105", "/p", 10, "99999999", 1), "click y is not a whole number from 0 to 4999"),
    "click x 100": (click("20260105", "/p", 100, 5, 1), "click x is not a whole percent 0-99"),
    "NaN seconds": (dwell("20260105", "/p", 2, 1, "NaN"), "seconds is not a number from 0"),
    "inf seconds": (dwell("20260105", "/p", 2, 1, "inf"), "seconds is not a number from 0"),
    "negative seconds": (dwell("20260105", "/p", 2, 1, "-50"), "seconds is not a number from 0"),
    "a year in one view": (dwell("20260105", "/p", 2, 1, 31_536_000), "seconds is not a number from 0 to 86,400"),
    "count 1e300": (dwell("20260105", "/p", 0, "1e300", 1), "event count is not a whole number"),
    "count 1e12": (dwell("20260105", "/p", 0, 10**12, 1), "event count is not a whole number"),
    "100 KB path": (dwell("20260105", "/" + "a" * 100_000, 0, 1, 1), "page path longer than 2,048 characters"),
    "10 KB segment": (dwell("20260105", "/p", 0, 1, 1, deviceCategory="x" * 10_000), "deviceCategory longer than"),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_forged_row_is_excluded_counted_with_a_sample_and_changes_nothing(case, clean, tmp_path):
    record, reason = FORGED[case]
    folder = tmp_path / "src"
    write(folder, f"{EXECUTION}/part-0.jsonl", jsonl([VALID[0], record, *VALID[1:]]))
    coverage, bands = answers(folder, tmp_path / "home")
    assert bands == clean  # the valid page's numbers are exactly those of its valid rows
    assert coverage["excluded_rows"] == 1 and coverage["errors"] == []
    [(counted, rows)] = coverage["excluded"].items()
    assert counted.startswith(reason) and rows == 1
    [sample] = coverage["excluded_samples"]
    assert sample["file"].endswith("part-0.jsonl") and sample["line"] == 2 and sample["reason"] == counted


def test_impossible_dates_are_errors_and_never_stretch_the_calendar(tmp_path):
    folder = tmp_path / "src"
    forged = [dwell("99991231", "/p", 0, 1, 1), dwell("19000101", "/p", 0, 1, 1), dwell("2026013", "/p", 0, 1, 1)]
    write(folder, f"{EXECUTION}/part-0.jsonl", jsonl([*VALID, *forged]))
    coverage, _bands = answers(folder, tmp_path / "home")
    assert list(coverage["days"]) == ["2026-01-05"] and coverage["missing_days"] == []
    assert [e["line"] for e in coverage["errors"]] == [4, 5, 6]
    assert all(e["reason"].startswith("date is not a day from 20050101 to ") for e in coverage["errors"])


def test_a_deeply_nested_line_costs_that_line_only(clean, tmp_path):
    folder = tmp_path / "src"
    deep = b"[" * 5000 + b"]" * 5000 + b"\n"
    nested_value = b'{"date": "20260105", "pagePath": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    write(folder, f"{EXECUTION}/part-0.jsonl", jsonl(VALID[:1]) + deep + nested_value + jsonl(VALID[1:]))
    coverage, bands = answers(folder, tmp_path / "home")
    assert bands == clean
    assert [(e["line"], e["reason"]) for e in coverage["errors"]] == [
        (2, "JSON nested too deeply to be a GA record"),
        (3, "JSON nested too deeply to be a GA record"),
    ]


def test_control_characters_are_not_called_invalid_utf8():
    batch = read_export(jsonl(VALID[:1]) + b"\x00\x01garbage\n", "f.jsonl", set(FieldMap().column_roles()))
    [issue] = batch.issues
    assert issue.line == 2 and issue.reason.startswith("malformed JSON") and "UTF-8" not in issue.reason
    invalid = read_export(jsonl(VALID[:1]) + b"\xff\xfe\n", "f.jsonl", set(FieldMap().column_roles()))
    assert [i.reason for i in invalid.issues] == ["not valid UTF-8 text"]


def test_a_million_garbage_lines_are_a_few_issues_not_a_million(tmp_path):
    data = jsonl(VALID) + b"{garbage\n" * 1_000_000
    batch = read_export(data, "f.jsonl", set(FieldMap().column_roles()))
    assert batch.frame.height == len(VALID)
    assert len(batch.issues) == MAX_ISSUES_PER_OBJECT + 1
    assert batch.issues[-1].reason == f"{1_000_000 - MAX_ISSUES_PER_OBJECT:,} more problem lines like those above"


def test_many_forged_rows_keep_a_few_samples_per_reason():
    rows = [dwell("20260105", "/p", "99999", 1, 1)] * 10_000
    result = normalize(read_export(jsonl(rows), "f", set(FieldMap().column_roles())), "f", FieldMap())
    assert result.excluded["rows"].sum() == 10_000 and result.samples.height == 3


def bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\x00" * (1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(size >> 20)) + compressor.flush()


@pytest.mark.parametrize("layout", ["single", "second member"])
def test_gzip_bombs_are_refused_by_ratio_without_expanding(layout):
    data = bomb(1 << 30) if layout == "single" else gzip.compress(jsonl(VALID)) + bomb(1 << 30)
    batch = read_export(data, "bomb.gz", set(FieldMap().column_roles()))
    [issue] = batch.issues
    assert "gzip bomb" in issue.reason and batch.frame.is_empty()


def test_truncated_gzip_is_reported():
    data = gzip.compress(jsonl(VALID))[:-12]
    [issue] = read_export(data, "t.gz", set(FieldMap().column_roles())).issues
    assert issue.reason.startswith("corrupt gzip data")


def test_a_reader_crash_costs_that_object_only(tmp_path, clean, monkeypatch):
    """Isolation: whatever a parser raises for one object, the source loads and names the object."""
    from heatmap.engines.local import load_dataset
    from heatmap.ingest import build
    from heatmap.stores import LocalStore

    folder = tmp_path / "src"
    write(folder, f"{EXECUTION}/part-0.jsonl", jsonl(VALID))
    write(folder, f"{EXECUTION}/part-1.jsonl", b'{"poison": 1}\n')
    real = build.read_export

    def flaky(data: bytes, name: str, keep: set[str]):
        if name.endswith("part-1.jsonl"):
            raise RuntimeError("parser bug")
        return real(data, name, keep)

    monkeypatch.setattr(build, "read_export", flaky)
    dataset = load_dataset(LocalStore(folder))
    assert [(e.file, e.reason) for e in dataset.catalog.errors] == [
        (f"{EXECUTION}/part-1.jsonl", "could not be read (RuntimeError: parser bug)")
    ]
    assert int(all_rows(dataset)["events"].sum()) == 20
