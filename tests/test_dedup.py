"""Overlapping AppFlow executions: for each GA date only the newest execution holding it counts."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from heatmap.engines.local import load_dataset
from heatmap.ingest.executions import execution_of, group_executions, winners
from heatmap.stores import MemoryStore
from heatmap.stores.base import ObjectInfo
from tests.exports import all_rows, dwell, jsonl

EXEC_A = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a"
EXEC_B = "flow/2026/01/08/0b7a1c3e-0000-4000-8000-00000000000b"


@pytest.mark.parametrize(
    ("key", "execution"),
    [
        (f"{EXEC_A}/part-0.jsonl", EXEC_A),
        (f"{EXEC_A}/deviceCategory=mobile/part-0.jsonl", EXEC_A),
        ("flow/exec-7/part-0.jsonl", "flow/exec-7"),
        ("flow/exec-7/date=20260105/part-0.jsonl", "flow/exec-7"),
        ("single.jsonl", "single.jsonl"),
    ],
)
def test_execution_of_key(key, execution):
    assert execution_of(key) == execution


def _at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def test_newest_execution_wins_by_last_modified_then_name():
    objects = [
        ObjectInfo("flow/x/a.jsonl", 1, "e1", _at(6)),
        ObjectInfo("flow/y/a.jsonl", 1, "e2", _at(8)),
        ObjectInfo("flow/z/a.jsonl", 1, "e3", _at(8)),  # same time as y: the later name wins
    ]
    executions = group_executions(objects)
    days = {"flow/x": {date(2026, 1, 5), date(2026, 1, 4)}, "flow/y": {date(2026, 1, 5)}, "flow/z": {date(2026, 1, 5)}}
    assert winners(days, executions) == {date(2026, 1, 4): "flow/x", date(2026, 1, 5): "flow/z"}


def overlapping_store() -> MemoryStore:
    store = MemoryStore()
    # Execution A (the daily run) exported 5 January; execution B (a re-run two days later) exported it again
    # with GA's revised, higher numbers, and also 7 January. 6 January was never exported.
    store.create(
        f"{EXEC_A}/part-0.jsonl",
        jsonl([dwell("20260105", "/p", 0, 10, 50), dwell("20260105", "/p", 1, 5, 20)]),
        last_modified=_at(6),
    )
    store.create(
        f"{EXEC_B}/part-0.jsonl",
        jsonl([dwell("20260105", "/p", 0, 20, 100), dwell("20260105", "/p", 1, 10, 30)]),
        last_modified=_at(8),
    )
    store.create(
        f"{EXEC_B}/part-1.jsonl",  # AppFlow splits one execution into several files
        jsonl(
            [
                dwell("20260105", "/p", 2, 5, 10),
                dwell("20260107", "/p", 0, 20, 40, deviceCategory="desktop"),
                dwell("20260107", "/p", 1, 15, 30, deviceCategory="desktop"),
            ]
        ),
        last_modified=_at(8),
    )
    return store


def test_a_day_exported_twice_counts_once_with_the_newest_numbers():
    dataset = load_dataset(overlapping_store())
    jan5 = all_rows(dataset).filter(pl.col("date") == date(2026, 1, 5))
    # Newest execution only: 20 + 10 + 5 views; summing both executions would give 50.
    assert jan5["events"].sum() == 35
    assert jan5["seconds"].sum() == 140.0
    assert dataset.catalog.executions_per_day == {date(2026, 1, 5): 2, date(2026, 1, 7): 1}
    assert dataset.catalog.winners[date(2026, 1, 5)] == EXEC_B
    assert dataset.catalog.missing_days == [date(2026, 1, 6)]


def test_the_older_execution_still_counts_for_days_only_it_has():
    store = overlapping_store()
    store.create(f"{EXEC_A}/part-1.jsonl", jsonl([dwell("20260104", "/p", 0, 7, 7)]), last_modified=_at(6))
    dataset = load_dataset(store)
    assert all_rows(dataset).filter(pl.col("date") == date(2026, 1, 4))["events"].sum() == 7
    assert {o["key"] for o in dataset.catalog.inputs(date(2026, 1, 4), date(2026, 1, 4))} == {
        f"{EXEC_A}/part-0.jsonl",
        f"{EXEC_A}/part-1.jsonl",
    }
