"""Loading a source end to end: any store, concurrency, progress, the columnar cache, coverage."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import polars as pl
import pytest

from heatmap.engines.local import load_dataset
from heatmap.stores import MemoryStore
from heatmap.stores.base import Store
from tests.exports import all_rows, dwell, jsonl


class CountingStore:
    """The Store interface around another store, counting reads: shows what the cache saves."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.uri, self.reads, self.listings = inner, inner.uri, 0, 0

    def list(self, prefix: str = ""):
        self.listings += 1
        return self.inner.list(prefix)

    def read(self, key: str) -> bytes:
        self.reads += 1
        return self.inner.read(key)

    def create(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.inner.create(key, data, content_type)


def fill(store: Store, executions: int, files: int = 2, first: date = date(2026, 1, 1)) -> None:
    jobs = []
    for e in range(executions):
        day = (first + timedelta(days=e)).strftime("%Y%m%d")
        for f in range(files):
            key = f"flow/exec-{e:04d}/part-{f}.jsonl"
            jobs.append((key, jsonl([dwell(day, "/p", f, 10 - f, 5.0), dwell(day, "/求人/detail", 0, 3, 1.5)])))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: store.create(*job), jobs))


def test_load_from_every_store_backend(store):
    fill(store, executions=3)
    dataset = load_dataset(store)
    assert dataset.catalog.days == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    by_page = dict(all_rows(dataset).group_by("page").agg(pl.col("events").sum()).iter_rows())
    assert by_page == {"/p": 3 * (10 + 9), "/求人/detail": 3 * 2 * 3}
    assert dataset.catalog.pages() == [("/p", 30), ("/求人/detail", 18)]


def test_progress_reports_every_object(tmp_path):
    store = MemoryStore()
    fill(store, executions=5)
    seen: list[tuple[int, int]] = []
    load_dataset(store, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [done for done, _ in seen] == list(range(11))


def test_second_load_reads_the_cache_not_the_store(tmp_path):
    store = CountingStore(MemoryStore())
    fill(store, executions=4)
    first = load_dataset(store, cache_dir=tmp_path)
    assert store.reads == 8
    second = load_dataset(store, cache_dir=tmp_path)
    assert store.reads == 8
    assert all_rows(second).equals(all_rows(first))
    assert second.catalog.coverage() == first.catalog.coverage()


def test_a_listing_just_made_is_not_made_again(tmp_path):
    """The app lists the source to decide whether its engine is current; loading then uses that listing."""
    from heatmap.ingest.build import list_exports

    store = CountingStore(MemoryStore())
    fill(store, executions=2)
    listing = list_exports(store)
    dataset = load_dataset(store, cache_dir=tmp_path, objects=listing)
    assert store.listings == 1 and store.reads == 4
    assert dataset.catalog.days == [date(2026, 1, 1), date(2026, 1, 2)]


def test_a_new_object_reparses_only_that_object(tmp_path):
    store = CountingStore(MemoryStore())
    fill(store, executions=4)
    load_dataset(store, cache_dir=tmp_path)
    store.create("flow/exec-9999/part-0.jsonl", jsonl([dwell("20260120", "/p", 0, 4, 1)]))
    dataset = load_dataset(store, cache_dir=tmp_path)
    assert store.reads == 9
    assert date(2026, 1, 20) in dataset.catalog.days


def test_a_corrupt_cache_entry_is_a_miss_not_an_error(tmp_path):
    store = MemoryStore()
    fill(store, executions=2)
    expected = all_rows(load_dataset(store, cache_dir=tmp_path))
    for path in tmp_path.rglob("*.arrow"):
        path.write_bytes(b"garbage")
    assert all_rows(load_dataset(store, cache_dir=tmp_path)).equals(expected)


def test_thousands_of_objects_across_list_pages(store_factory):
    if store_factory.backend not in ("moto", "seaweed"):
        pytest.skip("only S3 lists in pages")
    store = store_factory()
    fill(store, executions=1200, files=1, first=date(2022, 1, 1))  # 1,200 keys: S3 lists 1,000 per page
    dataset = load_dataset(store)
    assert len(dataset.catalog.objects) == 1200
    assert all_rows(dataset).filter(pl.col("page") == "/p")["events"].sum() == 1200 * 10


def test_malformed_line_and_missing_day_in_coverage():
    store = MemoryStore()
    store.create("flow/e1/a.jsonl", jsonl([dwell("20260101", "/p", 0, 5, 1)]) + b"{oops\n")
    store.create("flow/e3/a.jsonl", jsonl([dwell("20260103", "/p", 0, 5, 1), dwell("20260103", "(other)", 0, 1, 1)]))
    coverage = load_dataset(store).catalog.coverage()
    assert coverage["days"] == {
        "2026-01-01": {"rows": 1, "executions": 1, "route": "report"},
        "2026-01-03": {"rows": 2, "executions": 1, "route": "report"},
    }
    assert coverage["missing_days"] == ["2026-01-02"]
    assert coverage["errors"] == [{"file": "flow/e1/a.jsonl", "line": 2, "reason": coverage["errors"][0]["reason"]}]
    assert coverage["excluded_rows"] == 1


def test_images_and_hidden_files_beside_exports_are_ignored():
    store = MemoryStore()
    store.create("flow/e1/a.jsonl", jsonl([dwell("20260101", "/p", 0, 5, 1)]))
    store.create("screenshots/home.png", b"\x89PNG...")
    assert load_dataset(store).catalog.errors == []


def test_an_execution_with_an_empty_file_is_not_an_error_and_its_day_stays_missing():
    store = MemoryStore()
    store.create("flow/e1/a.jsonl", jsonl([dwell("20260101", "/p", 0, 5, 1)]))
    store.create("flow/e2/a.jsonl", b"")  # AppFlow ran for 2 January and found nothing
    store.create("flow/e3/a.jsonl", jsonl([dwell("20260103", "/p", 0, 5, 1)]))
    dataset = load_dataset(store)
    assert dataset.catalog.errors == []
    assert dataset.catalog.missing_days == [date(2026, 1, 2)]  # never read as zero page views


def test_an_object_deleted_between_list_and_read_is_reported():
    class Vanishing(MemoryStore):
        def read(self, key: str) -> bytes:
            if key.endswith("gone.jsonl"):
                from heatmap.errors import NotFound

                raise NotFound(key)
            return super().read(key)

    store = Vanishing()
    store.create("flow/e1/a.jsonl", jsonl([dwell("20260101", "/p", 0, 5, 1)]))
    store.create("flow/e1/gone.jsonl", b"")
    dataset = load_dataset(store)
    assert [(e.file, e.reason) for e in dataset.catalog.errors] == [("flow/e1/gone.jsonl", "listed but gone when read")]
    assert all_rows(dataset)["events"].sum() == 5
