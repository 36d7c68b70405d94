"""A SQL engine's catalog reads only what changed since the last one (heatmap/engines/catalog_state.py), and
always says what a catalog read from scratch says: the local engine's pages, segment values and coverage.

DuckDB runs the same SQL as Athena on this machine; the engine below records each query it runs (which kind,
which partitions) and nothing else.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlglot import exp

from heatmap.contract import Bounds
from heatmap.engines.catalog_state import MAX_CHANGED_PAIRS, CatalogState, changed_views
from heatmap.engines.duckdb_engine import DuckDBEngine
from heatmap.engines.local import load_dataset
from heatmap.engines.sql import scope_of
from heatmap.fields import FieldMap
from heatmap.ingest.build import list_exports
from heatmap.stores import LocalStore, MemoryStore
from tests.exports import click, dwell, jsonl, write

DAY1 = "flow/2026/01/02/0b7a1c3e-0000-4000-8000-000000000001"
DAY2 = "flow/2026/01/03/0b7a1c3e-0000-4000-8000-000000000002"
DAY3 = "flow/2026/01/04/0b7a1c3e-0000-4000-8000-000000000003"
RERUN3 = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-000000000033"  # a later run that exports 3 January again
DAY4 = "flow/2026/01/05/0b7a1c3e-0000-4000-8000-000000000004"


class Recording(DuckDBEngine):
    """The DuckDB engine, noting each query it runs: its kind and the run-date folders it reads."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.ran: list[tuple[str, set[str]]] = []
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def run(self, query: exp.Expression):  # type: ignore[no-untyped-def]
        text = query.sql(dialect="duckdb")
        named_files = re.search(r"\.jsonl(\.gz)?', '\d{8}', -?1\)", text)  # a change names objects, not folders
        kind = "coverage" if "COUNT(*) AS rows" in text else "change" if named_files else "catalog"
        scope = scope_of(query)
        folders = {day for _flow, day in scope.folders[0]} if scope else set()
        self.ran.append((kind, folders))
        return super().run(query)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    write(folder, f"{DAY1}/p0.jsonl", jsonl([dwell("20260101", "/a", 0, 10, 50), dwell("20260101", "/b", 0, 4, 8)]),
          modified=datetime(2026, 1, 2, 2))  # fmt: skip
    write(folder, f"{DAY2}/p0.jsonl", jsonl([dwell("20260102", "/a", 0, 6, 20, deviceCategory="desktop"),
                                             click("20260102", "/a", 10, 5, 3)]), modified=datetime(2026, 1, 3, 2))  # fmt: skip
    write(folder, f"{DAY3}/p0.jsonl", jsonl([dwell("20260103", "/b", 0, 9, 18, newVsReturning="returning")]),
          modified=datetime(2026, 1, 4, 2))  # fmt: skip
    return folder


def open_duckdb(folder: Path, cache: Path, shared: MemoryStore | None = None) -> Recording:
    store = LocalStore(folder)
    engine = Recording(store, list_exports(store), FieldMap(), Bounds(), str(cache), shared)
    _ = engine.catalog  # its queries run on first use
    return engine


def assert_same_as_from_scratch(engine: Recording, folder: Path, tmp_path: Path) -> None:
    scratch = open_duckdb(folder, tmp_path / f"scratch-{len(list(tmp_path.iterdir()))}")
    local = load_dataset(LocalStore(folder), cache_dir=tmp_path / "local").catalog
    for other in (scratch.catalog, local):
        assert engine.catalog.pages() == other.pages()
        assert engine.catalog.segment_values == other.segment_values
        assert engine.catalog.coverage()["days"] == other.coverage()["days"]
        assert engine.catalog.winners == other.winners


def test_an_unchanged_listing_runs_no_query(source: Path, tmp_path: Path) -> None:
    first = open_duckdb(source, tmp_path / "cache")
    assert [kind for kind, _ in first.ran] == ["coverage", "catalog"]
    again = open_duckdb(source, tmp_path / "cache")
    assert again.ran == []
    assert again.catalog.pages() == first.catalog.pages() == [("/a", 16), ("/b", 13)]
    assert again.catalog.segment_values == first.catalog.segment_values


def test_a_new_day_and_a_rerun_read_only_their_folders(source: Path, tmp_path: Path) -> None:
    open_duckdb(source, tmp_path / "cache")
    day4 = [dwell("20260104", "/c", 0, 30, 60, sessionDefaultChannelGroup="Email"), dwell("20260104", "/zero", 0, 0, 0)]
    write(source, f"{DAY4}/p0.jsonl", jsonl(day4), modified=datetime(2026, 1, 5, 2))
    write(source, f"{RERUN3}/p0.jsonl", jsonl([dwell("20260103", "/b", 0, 11, 22, newVsReturning="returning")]),
          modified=datetime(2026, 1, 6, 2))  # fmt: skip
    engine = open_duckdb(source, tmp_path / "cache")
    assert engine.ran == [
        ("coverage", {"2026/01/05", "2026/01/06"}),  # the new objects' folders only
        ("change", {"2026/01/04", "2026/01/05", "2026/01/06"}),  # + the run whose 3 January no longer counts
    ]
    assert dict(engine.catalog.pages()) == {"/c": 30, "/a": 16, "/b": 15, "/zero": 0}  # /b: 4 + 11, not 4 + 9 + 11
    assert "Email" in engine.catalog.segment_values["sessionDefaultChannelGroup"]
    assert_same_as_from_scratch(engine, source, tmp_path)


def test_an_object_that_counted_and_is_gone_means_counting_again(source: Path, tmp_path: Path) -> None:
    open_duckdb(source, tmp_path / "cache")
    shutil.rmtree(source / DAY1)
    engine = open_duckdb(source, tmp_path / "cache")
    assert [kind for kind, _ in engine.ran] == ["catalog"]  # coverage of the rest is known; views counted anew
    assert dict(engine.catalog.pages()) == {"/a": 6, "/b": 9}
    assert_same_as_from_scratch(engine, source, tmp_path)


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "sql-catalog-0"}', b'{"format": "sql-catalog-1"}'])
def test_a_damaged_state_is_a_miss_never_a_wrong_answer(source: Path, tmp_path: Path, damage: bytes) -> None:
    open_duckdb(source, tmp_path / "cache")
    (state,) = (tmp_path / "cache" / "sql-catalog").iterdir()
    state.write_bytes(damage)
    engine = open_duckdb(source, tmp_path / "cache")
    assert [kind for kind, _ in engine.ran] == ["coverage", "catalog"]
    assert_same_as_from_scratch(engine, source, tmp_path)


def test_a_state_that_disagrees_with_the_exports_is_counted_again(source: Path, tmp_path: Path) -> None:
    """Page views that a change would take below zero mean the state no longer matches: count from scratch."""
    open_duckdb(source, tmp_path / "cache")
    (path,) = (tmp_path / "cache" / "sql-catalog").iterdir()
    state = CatalogState.from_json(path.read_bytes())
    state.views = dict.fromkeys(state.views, (1, 1))  # taking away the replaced run's 9 page views of /b goes below 0
    path.write_bytes(state.to_json())
    write(source, f"{RERUN3}/p0.jsonl", jsonl([dwell("20260103", "/b", 0, 1, 2)]), modified=datetime(2026, 1, 6, 2))
    engine = open_duckdb(source, tmp_path / "cache")
    assert [kind for kind, _ in engine.ran] == ["coverage", "change", "catalog"]
    assert_same_as_from_scratch(engine, source, tmp_path)


def test_too_many_changed_pairs_are_one_full_count() -> None:
    state = CatalogState(counted={(f"o{i}", "20260101") for i in range(MAX_CHANGED_PAIRS)})
    listed = {i for i, _day in state.counted} | {"new"}
    assert changed_views(state, {("new", "20260102")}, listed) is None
    signed = changed_views(state, state.counted - {("o1", "20260101")} | {("new", "20260102")}, listed)
    assert signed == [("new", "20260102", 1), ("o1", "20260101", -1)]


def test_a_value_is_listed_while_it_has_rows_even_with_no_page_views() -> None:
    from heatmap.engines.catalog_state import apply

    views = {("page", "/zero"): (0, 1), ("page", "/a"): (10, 2)}
    assert apply(views, [("page", "/a", -4, -1), ("page", "/new", 0, 1)]) == {
        ("page", "/zero"): (0, 1), ("page", "/a"): (6, 1), ("page", "/new"): (0, 1),
    }  # fmt: skip
    assert apply(views, [("page", "/zero", 0, -1), ("page", "/a", -10, -2)]) == {}
    assert apply(views, [("page", "/a", -9, -2)]) is None  # page views left without rows: not the exports' count
    assert apply(views, [("page", "/a", -11, -1)]) is None


def test_a_server_with_an_empty_disk_starts_from_the_shared_state(source: Path, tmp_path: Path) -> None:
    from heatmap.engines.catalog_state import SHARED_PREFIX

    output = MemoryStore()
    first = open_duckdb(source, tmp_path / "server-1", output)
    assert len(list(output.list(SHARED_PREFIX))) == 1
    again = open_duckdb(source, tmp_path / "server-2", output)  # a restart: nothing on the local disk
    assert again.ran == [] and again.catalog.pages() == first.catalog.pages()
    assert len(list(output.list(SHARED_PREFIX))) == 1  # an unchanged state is not shared twice

    write(source, f"{DAY4}/p0.jsonl", jsonl([dwell("20260104", "/c", 0, 30, 60)]), modified=datetime(2026, 1, 5, 2))
    later = open_duckdb(source, tmp_path / "server-3", output)
    assert [kind for kind, _ in later.ran] == ["coverage", "change"]
    assert_same_as_from_scratch(later, source, tmp_path)
    assert len(list(output.list(SHARED_PREFIX))) == 2  # one per listing, never overwritten

    newest = max(output.list(SHARED_PREFIX), key=lambda o: o.last_modified)
    output._objects[newest.key] = (b"\x1f\x8b damaged", newest.last_modified)
    fallback = open_duckdb(source, tmp_path / "server-4", output)  # the newest copy is unreadable: the one before
    assert [kind for kind, _ in fallback.ran] == ["coverage", "change"]
    assert_same_as_from_scratch(fallback, source, tmp_path)


def test_a_shared_state_that_inflates_beyond_its_bound_is_a_miss(source: Path, tmp_path: Path) -> None:
    import gzip

    from heatmap.engines import catalog_state

    output = MemoryStore()
    open_duckdb(source, tmp_path / "server-1", output)
    (copy,) = output.list(catalog_state.SHARED_PREFIX)
    output._objects[copy.key] = (gzip.compress(b" " * (catalog_state.MAX_STATE_BYTES + 1)), copy.last_modified)
    engine = open_duckdb(source, tmp_path / "server-2", output)
    assert [kind for kind, _ in engine.ran] == ["coverage", "catalog"]
    assert_same_as_from_scratch(engine, source, tmp_path)


def test_the_app_shares_the_state_where_it_shares_parts(source: Path, tmp_path: Path) -> None:
    from heatmap.config import Settings
    from heatmap.engines.catalog_state import SHARED_PREFIX
    from heatmap.usecases.sources import open_engine

    output = tmp_path / "out"
    settings = Settings(source=str(source), output=str(output), shared_store="on")
    open_engine("duckdb", str(source), settings, str(tmp_path / "cache"))
    assert len(list(LocalStore(output).list(SHARED_PREFIX))) == 1
    off = Settings(source=str(source), output=str(tmp_path / "out-2"), shared_store="off")
    open_engine("duckdb", str(source), off, str(tmp_path / "cache-2"))
    assert not (tmp_path / "out-2").exists()
