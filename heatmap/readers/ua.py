"""Legacy Universal Analytics connector: Reporting API v4 documents, several per file (docs/formats.md)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from heatmap.readers.base import IssueLog, RawBatch, strings_only


def _documents(text: str) -> list[tuple[int, Any, str | None]]:
    """Concatenated JSON documents (newline-separated or not) with the line each starts on."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, Any, str | None]] = []
    position, length = 0, len(text)
    line, counted = 1, 0  # line numbers counted incrementally: many documents must not cost O(n²)
    while position < length:
        while position < length and text[position].isspace():
            position += 1
        if position >= length:
            break
        line += text.count("\n", counted, position)
        counted = position
        try:
            document, position = decoder.raw_decode(text, position)
            found.append((line, document, None))
        except (json.JSONDecodeError, RecursionError) as exc:
            problem = (
                f"malformed JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "JSON nested too deeply"
            )
            found.append((line, None, problem))
            next_line = text.find("\n", position)
            position = length if next_line < 0 else next_line + 1
    return found


def read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    columns: dict[str, list[str | None]] = {}
    lines: list[int] = []
    log = IssueLog(name)
    count = 0
    for line, document, problem in _documents(data.decode("utf-8", errors="replace")):
        if problem:
            log.add(line, problem)
            continue
        reports = document.get("reports") if isinstance(document, dict) else None
        if not isinstance(reports, list):
            log.add(line, "not a Reporting API v4 document (no 'reports' list)")
            continue
        for report in reports:
            try:
                header = report["columnHeader"]
                dimensions = list(header.get("dimensions", []))
                metrics = [entry["name"] for entry in header["metricHeader"]["metricHeaderEntries"]]
                rows = report.get("data", {}).get("rows", []) or []
            except (KeyError, TypeError, AttributeError):
                log.add(line, "report without a usable columnHeader")
                continue
            for row in rows:
                try:
                    values = list(row["dimensions"]) + list(row["metrics"][0]["values"])
                except (KeyError, IndexError, TypeError):
                    log.add(line, "row without dimensions or metric values")
                    continue
                if len(values) != len(dimensions) + len(metrics):
                    log.add(line, "row has a different number of values than its header")
                    continue
                for key, value in zip(dimensions + metrics, values, strict=True):
                    column = columns.setdefault(key, [None] * count)
                    column.append(None if value is None or isinstance(value, (dict, list)) else str(value))
                count += 1
                for column in columns.values():
                    if len(column) < count:
                        column.append(None)
                lines.append(line)
    frame = pl.DataFrame(columns, schema={key: pl.String for key in columns})
    return RawBatch(strings_only(frame, keep), log.issues(), lines)
