"""GA4 connector output: one flat JSON record per line, values as strings (docs/formats.md)."""

from __future__ import annotations

import json

import polars as pl

from heatmap.fields import plain_name
from heatmap.readers.base import Issue, IssueLog, RawBatch, strings_only


def _first_lines(data: bytes, count: int = 50, longest: int = 65536, budget: int = 16 * 65536) -> list[bytes]:
    """Up to `count` lines from the start of `data`, skipping lines longer than `longest` bytes (not GA records:
    a hostile first line must not hide the records after it) and looking at most `budget` bytes in."""
    lines: list[bytes] = []
    pos = 0
    while len(lines) < count and pos < min(len(data), budget):
        end = data.find(b"\n", pos, pos + longest + 1)
        if end < 0 and pos + longest < len(data):  # longer than a record: skip to the end of this line
            end = data.find(b"\n", pos + longest)
            pos = len(data) if end < 0 else end + 1
            continue
        end = len(data) if end < 0 else end
        lines.append(data[pos:end])
        pos = end + 1
    return lines


def _schema(data: bytes, keep: set[str]) -> dict[str, pl.DataType]:
    """Field names as the file spells them (with or without `customEvent:`), read from its first records."""
    names: dict[str, pl.DataType] = {}
    for raw in _first_lines(data):
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict):
            for key in record:
                if plain_name(key) in keep:
                    names[key] = pl.String()
    return names


MAX_LINE_BYTES = 1024**2  # a GA record is a few hundred bytes; a longer line is garbage, never parsed


def has_long_line(data: bytes, limit: int = MAX_LINE_BYTES) -> bool:
    """True if some line may be longer than `limit` (never False when one is). A line of 2·step bytes covers a
    whole aligned window of `step` bytes without a newline, and a window with a newline costs a memchr up to
    it: about len(data)/step short searches instead of a scan of every line."""
    step = limit // 2
    return any(data.find(b"\n", pos, pos + step) < 0 for pos in range(0, len(data) - step + 1, step))


def read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    schema = _schema(data, keep)
    if not schema:
        return RawBatch(pl.DataFrame(), [Issue(name, 1, "no heatmap fields found in the first records")])
    if has_long_line(data):  # the fast parser's memory grows many times a huge line's size
        return _read_line_by_line(data, name, keep, schema)
    try:
        frame = pl.read_ndjson(data, schema=schema)
    except Exception:
        return _read_line_by_line(data, name, keep, schema)
    return RawBatch(strings_only(frame, keep), text=data)


def _read_line_by_line(data: bytes, name: str, keep: set[str], schema: dict[str, pl.DataType]) -> RawBatch:
    """The slow path, taken only when the fast parser refuses the file: each line on its own, so one bad line
    costs that line. Nested values are not GA fields: they become null and the row is judged later."""
    records: list[dict[str, object]] = []
    lines: list[int] = []
    log = IssueLog(name)
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            log.add(number, f"line longer than {MAX_LINE_BYTES // 1024**2} MB: not a GA record")
            continue
        try:
            record = json.loads(raw.decode("utf-8"))  # decoded here: json.loads(bytes) guesses UTF-16 from NULs
        except json.JSONDecodeError as exc:
            log.add(number, f"malformed JSON: {exc.msg} at column {exc.colno}")
            continue
        except UnicodeDecodeError:
            log.add(number, "not valid UTF-8 text")
            continue
        except RecursionError:
            log.add(number, "JSON nested too deeply to be a GA record")
            continue
        except ValueError as exc:
            log.add(number, f"malformed JSON: {exc}")
            continue
        if not isinstance(record, dict):
            log.add(number, "expected a JSON object")
            continue
        records.append({key: _scalar(record[key]) for key in schema if key in record})
        lines.append(number)
    frame = pl.DataFrame(records, schema=schema) if records else pl.DataFrame(schema=schema)
    return RawBatch(strings_only(frame, keep), log.issues(), lines)


def _scalar(value: object) -> str | None:
    """GA writes every value as a string; numbers and booleans are accepted as their text, structures are not."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)
