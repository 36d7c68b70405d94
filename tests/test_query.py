"""Selecting a view: the engine's one-page read gives exactly what a plain filter over everything gives."""

from datetime import date

import polars as pl
import pytest

from heatmap.engines.local import load_dataset
from heatmap.errors import DataError
from heatmap.query import parse_where
from heatmap.stores import MemoryStore
from tests.exports import all_rows, dwell, jsonl, select


@pytest.fixture(scope="module")
def engine():
    store = MemoryStore()
    records = []
    for day in range(1, 29):
        for page in ("/a", "/b", "/求人/detail"):
            for device in ("mobile", "desktop"):
                for channel in ("Direct", "Email"):
                    records.append(
                        dwell(
                            f"202602{day:02d}",
                            page,
                            0,
                            day,
                            1.0,
                            deviceCategory=device,
                            sessionDefaultChannelGroup=channel,
                        )
                    )
    store.create("flow/e/part.jsonl", jsonl(records))
    return load_dataset(store)


@pytest.fixture(scope="module")
def table(engine) -> pl.DataFrame:
    return all_rows(engine)


@pytest.mark.parametrize(
    ("page", "start", "end", "where"),
    [
        ("/a", date(2026, 2, 1), date(2026, 2, 28), {}),
        ("/a", date(2026, 2, 3), date(2026, 2, 3), {}),
        ("/求人/detail", date(2026, 2, 10), date(2026, 2, 20), {"deviceCategory": ["mobile"]}),
        ("/b", date(2026, 1, 1), date(2026, 2, 5), {"device": ["mobile", "desktop"], "channel": ["Email"]}),
        ("/b", date(2026, 3, 1), date(2026, 3, 5), {}),
        ("/nope", date(2026, 2, 1), date(2026, 2, 28), {}),
    ],
)
def test_one_page_read_equals_plain_filter(engine, table, page, start, end, where):
    expected = select(table, page, start, end, where).sort(pl.all())
    assert engine.rows(page, start, end, where).sort(pl.all()).equals(expected)


def test_views_sum_by_hand(engine):
    rows = engine.rows("/a", date(2026, 2, 1), date(2026, 2, 3), {"deviceCategory": ["mobile"]})
    assert rows["events"].sum() == (1 + 2 + 3) * 2  # two channels per day


def test_reversed_range_and_unknown_dimension_are_clear(engine):
    with pytest.raises(DataError, match="reversed"):
        engine.rows("/a", date(2026, 2, 5), date(2026, 2, 1))
    with pytest.raises(DataError, match="unknown segment dimension 'colour'"):
        parse_where(engine.catalog.segments, ["colour=red"])
