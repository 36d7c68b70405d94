"""The on-disk store of parts (docs/engines.md): one immutable Parquet file per export object, a per-listing catalog,
a page read at a time, shared copies for fresh servers. Answers never change; damage is a miss, not an answer."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from heatmap.engines.local import LocalEngine, load_dataset
from heatmap.ingest.build import SHARED_PREFIX
from heatmap.statistics.metrics import band_table
from heatmap.stores import MemoryStore
from heatmap.stores.base import Store
from tests.exports import all_rows, click, dwell, jsonl
from tests.test_loader import CountingStore

ROOT = Path(__file__).resolve().parents[1]
DAYS = [f"2026030{d}" for d in range(1, 6)]


def fill(store: Store, pages: int = 12) -> None:
    """Five daily executions, one re-exported with revised numbers, and a page per object that only it holds."""
    for n, day in enumerate(DAYS):
        records = [dwell(day, f"/p{p}", b, 50 - b - p, 10.0 + b) for p in range(pages) for b in range(4)]
        records += [click(day, f"/p{p}", 10 * p % 100, 3, 2) for p in range(pages)]
        store.create(f"flow/2026/03/0{n + 2}/0000000{n}-0000-4000-8000-000000000000/part-0.jsonl", jsonl(records))
    revised = [dwell(DAYS[0], "/p0", 0, 999, 1.0)]
    store.create("flow/2026/03/09/00000009-0000-4000-8000-000000000000/part-0.jsonl", jsonl(revised))


def answers(engine: LocalEngine) -> dict:
    views = {
        page: band_table(engine.view(page, date(2026, 3, 1), date(2026, 3, 5))).to_json_dict()
        for page, _ in engine.catalog.pages()
    }
    return {"coverage": engine.catalog.coverage(), "pages": engine.catalog.pages(), "views": views}


@pytest.fixture
def source() -> MemoryStore:
    store = MemoryStore()
    fill(store)
    return store


def test_one_page_read_keeps_only_that_page_and_the_lru_stays_bounded(source, tmp_path):
    engine = load_dataset(source, cache_dir=tmp_path)
    rows = engine.page_rows("/p3")
    assert set(rows["page"].cast(pl.String).unique()) == {"/p3"}
    assert rows["date"].is_sorted()
    assert engine.catalog.page_views["/p0"] == 999 + sum(50 - 0 - 0 for _ in DAYS[1:])  # re-export wins 1 March
    engine = LocalEngine(engine.catalog, engine.parts, page_cache_bytes=rows.estimated_size() * 2)
    for page in ("/p1", "/p2", "/p3", "/p4"):
        engine.page_rows(page)
    assert engine.pages.keys() == ["/p3", "/p4"]  # least recently used pages were dropped
    small = LocalEngine(engine.catalog, engine.parts, page_cache_bytes=1)
    small.page_rows("/p1")
    small.page_rows("/p2")
    assert small.pages.keys() == ["/p2"], "a page larger than the cache is kept alone, until the next"
    assert engine.page_rows("/p1").equals(load_dataset(source, cache_dir=tmp_path).page_rows("/p1"))


def test_a_part_holding_a_day_another_execution_won_counts_for_its_own_days_only(tmp_path):
    """Whole parts are read by one scan with no date filter; a part that also holds a re-exported day is
    limited to the days it wins, and the rows still come back sorted by date."""
    store = MemoryStore()
    old = [dwell(day, "/p", 0, 10, 5.0) for day in ("20260301", "20260302", "20260303")]
    store.create("flow/2026/03/04/00000001-0000-4000-8000-000000000000/part-0.jsonl", jsonl(old))
    store.create(
        "flow/2026/03/05/00000002-0000-4000-8000-000000000000/part-0.jsonl", jsonl([dwell("20260304", "/p", 0, 1, 1.0)])
    )
    revised = [dwell("20260302", "/p", 0, 99, 9.0), dwell("20260302", "/q", 0, 3, 3.0)]
    store.create("flow/2026/03/09/00000009-0000-4000-8000-000000000000/part-0.jsonl", jsonl(revised))
    engine = load_dataset(store, cache_dir=tmp_path)
    assert len(engine.catalog.parts) == 3 and len(engine.catalog.partial) == 1
    (partial,) = engine.catalog.partial
    assert engine.catalog.parts[partial] == [date(2026, 3, 1), date(2026, 3, 3)]
    rows = engine.page_rows("/p")
    assert rows["date"].to_list() == [date(2026, 3, d) for d in (1, 2, 3, 4)]
    assert rows["events"].to_list() == [10, 99, 10, 1]
    assert rows.schema == all_rows(engine).schema
    assert all_rows(engine).height == 5
    assert load_dataset(store, cache_dir=tmp_path).catalog.partial == {partial}  # kept in the cached catalog


def test_parts_keep_the_page_a_plain_string_for_row_group_statistics(source, tmp_path):
    """A scan prunes row groups by `page == P` only on a string column (not on a categorical one), and gets
    segment values back as the categories a view filters on."""
    engine = load_dataset(source, cache_dir=tmp_path)
    part = engine.parts.path(next(iter(engine.catalog.parts)))
    written = pl.read_parquet_schema(part)
    assert written["page"] == pl.String
    assert all(written[name] == pl.Categorical for name in engine.catalog.segments)
    assert pl.read_parquet(part)["page"].is_sorted()


def test_the_catalog_alone_opens_an_unchanged_source(source, tmp_path):
    first = answers(load_dataset(source, cache_dir=tmp_path))
    counting = CountingStore(source)
    engine = load_dataset(counting, cache_dir=tmp_path)
    assert counting.reads == 0
    assert answers(engine) == first


@pytest.mark.parametrize("damage", ["truncated", "garbage", "removed"])
def test_a_damaged_local_part_is_a_miss_never_a_wrong_answer(source, tmp_path, damage):
    expected = answers(load_dataset(source, cache_dir=tmp_path))
    for catalog in (tmp_path / "catalogs").glob("*.json"):  # a server restart with a new listing, say
        catalog.unlink()
    part = sorted((tmp_path / "parts").rglob("*.parquet"))[0]
    if damage == "truncated":
        part.write_bytes(part.read_bytes()[:-100])
    elif damage == "garbage":
        part.write_bytes(b"PAR1 garbage")
    else:
        part.unlink()
    counting = CountingStore(source)
    assert answers(load_dataset(counting, cache_dir=tmp_path)) == expected
    assert counting.reads == 1  # only the damaged part's export was parsed again


def test_a_part_damaged_after_the_catalog_was_written_is_rebuilt_on_the_next_load(source, tmp_path):
    expected = answers(load_dataset(source, cache_dir=tmp_path))
    for part in (tmp_path / "parts").rglob("*.parquet"):
        part.unlink()
    assert answers(load_dataset(source, cache_dir=tmp_path)) == expected  # the catalog's parts are checked


def test_an_object_that_fails_to_parse_is_reported_and_the_rest_is_unchanged(source, tmp_path):
    expected = answers(load_dataset(source, cache_dir=tmp_path / "a"))
    source.create("flow/2026/03/10/0000000a-0000-4000-8000-000000000000/part-0.jsonl.gz", b"\x1f\x8bnot gzip")
    engine = load_dataset(source, cache_dir=tmp_path / "a")
    assert [e.reason.split(":")[0] for e in engine.catalog.errors] == ["corrupt gzip data"]
    assert answers(engine)["views"] == expected["views"]


def shared_round_trip(source: Store, output: Store, tmp_path: Path) -> None:
    expected = answers(load_dataset(source, cache_dir=tmp_path / "server-1", shared=output))
    shared = [o.key for o in output.list(SHARED_PREFIX)]
    assert len(shared) == len(list(source.list())) and all(k.endswith(".parquet") for k in shared)
    fresh_source, fresh_output = CountingStore(source), CountingStore(output)
    engine = load_dataset(fresh_source, cache_dir=tmp_path / "server-2", shared=fresh_output)  # empty local disk
    assert fresh_source.reads == 0  # no JSON parsed
    assert fresh_output.reads == len(shared)
    assert answers(engine) == expected
    load_dataset(source, cache_dir=tmp_path / "server-3", shared=output)  # sharing again is create-only: no error
    assert sorted(o.key for o in output.list(SHARED_PREFIX)) == sorted(shared)


def test_shared_store_round_trip_in_memory(source, tmp_path):
    shared_round_trip(source, MemoryStore(), tmp_path)


@pytest.mark.integration
def test_shared_store_round_trip_on_a_real_s3_server(store_factory, tmp_path):
    if store_factory.backend != "seaweed":
        pytest.skip("the real S3 server case")
    source, output = store_factory(), store_factory()
    fill(source)
    shared_round_trip(source, output, tmp_path)


def test_a_damaged_shared_part_is_a_miss(source, tmp_path):
    output = MemoryStore()
    expected = answers(load_dataset(source, cache_dir=tmp_path / "one", shared=output))
    key = sorted(o.key for o in output.list(SHARED_PREFIX))[0]
    data, modified = output._objects[key]
    output._objects[key] = (data[:200], modified)  # a bit-rotted copy
    counting = CountingStore(source)
    assert answers(load_dataset(counting, cache_dir=tmp_path / "two", shared=output)) == expected
    assert counting.reads == 1


def test_shared_store_is_never_the_source_or_inside_it(tmp_path):
    from heatmap.config import Settings
    from heatmap.usecases.sources import shared_store_for

    settings = Settings(output=str(tmp_path / "src" / "out"), shared_store="on")
    assert shared_store_for(settings, str(tmp_path / "src")) is None
    assert shared_store_for(Settings(output=str(tmp_path / "out"), shared_store="on"), str(tmp_path / "src"))
    assert shared_store_for(Settings(output=str(tmp_path / "out")), str(tmp_path / "src")) is None  # auto: S3 only


def test_ingest_of_a_source_larger_than_the_memory_limit(tmp_path):
    """Streaming: 72 objects of 28 MB (2 GB of JSON, hard links to one file) ingest under a 1.4 GB limit on the
    address space (virtual memory: resident is about a third of it; MALLOC_ARENA_MAX keeps glibc from reserving
    64 MB per thread)."""
    one = tmp_path / "one.jsonl"
    records = [
        dwell("20260301", f"/p{p % 3000}", b, 5, 1.5, deviceCategory=("mobile", "desktop")[p % 2])
        for p in range(13_000)
        for b in range(7)
    ]
    one.write_bytes(jsonl(records))
    size = one.stat().st_size
    count = -(-2_000_000_000 // size)
    for n in range(count):
        folder = tmp_path / "src" / "flow" / f"{n:08x}-0000-4000-8000-000000000000"
        folder.mkdir(parents=True)
        os.link(one, folder / "part-0.jsonl")
    limit = 1_400 * 1024**2
    assert size * count > limit
    code = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
        "from heatmap.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ["bands", "--source", str(tmp_path / "src"), "--cache-dir", str(tmp_path / "cache"), "--page", "/p7",
            "--from", "2026-03-01", "--to", "2026-03-01", "--json"]  # fmt: skip
    env = {**os.environ, "HEATMAP_HOME": str(tmp_path / "home"), "POLARS_MAX_THREADS": "2", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    bands = json.loads(result.stdout)
    assert bands["page_views"] == 5 * (13_000 // 3000 + (7 < 13_000 % 3000))  # one execution wins the day
