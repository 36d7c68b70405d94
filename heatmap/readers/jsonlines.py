"""GA4 connector output: one flat JSON record per line, values as strings (DESIGN §4)."""

from __future__ import annotations

import json

import polars as pl

from heatmap.fields import plain_name
from heatmap.readers.base import Issue, RawBatch, strings_only


def _schema(data: bytes, keep: set[str]) -> dict[str, pl.DataType]:
    """Field names as the file spells them (with or without `customEvent:`), read from its first records."""
    names: dict[str, pl.DataType] = {}
    for raw in data[:65536].splitlines()[:50]:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            for key in record:
                if plain_name(key) in keep:
                    names[key] = pl.String()
    return names


def read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    schema = _schema(data, keep)
    if not schema:
        return RawBatch(pl.DataFrame(), [Issue(name, 1, "no heatmap fields found in the first records")])
    try:
        frame = pl.read_ndjson(data, schema=schema)
    except Exception:
        return _read_line_by_line(data, name, keep, schema)
    return RawBatch(strings_only(frame, keep), text=data)


def _read_line_by_line(data: bytes, name: str, keep: set[str], schema: dict[str, pl.DataType]) -> RawBatch:
    records: list[dict[str, object]] = []
    lines: list[int] = []
    issues: list[Issue] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            issues.append(Issue(name, number, f"malformed JSON: {exc.msg} at column {exc.colno}"))
            continue
        except ValueError:
            issues.append(Issue(name, number, "not valid UTF-8 text"))
            continue
        if not isinstance(record, dict):
            issues.append(Issue(name, number, "expected a JSON object"))
            continue
        records.append({key: None if value is None else str(value) for key, value in record.items()})
        lines.append(number)
    frame = pl.DataFrame(records, schema=schema) if records else pl.DataFrame(schema=schema)
    return RawBatch(strings_only(frame, keep), issues, lines)
