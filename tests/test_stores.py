"""The Store contract, run against every backend: local folder, memory, moto and a real SeaweedFS."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from heatmap.errors import AlreadyExists, NotFound, StoreError
from heatmap.stores import LocalStore, MemoryStore, S3Store, Store, open_store
from tests.fixtures.s3 import StoreFactory

S3_BACKENDS = ["moto", pytest.param("seaweed", marks=pytest.mark.integration)]
S3_ONLY = pytest.mark.parametrize("store_factory", S3_BACKENDS, indirect=True)


def _create_many(store: Store, items: dict[str, bytes], workers: int = 16) -> None:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda kv: store.create(*kv), items.items()))


# ---------------------------------------------------------------------------------------------- basics


def test_fresh_store_is_empty(store: Store) -> None:
    assert list(store.list()) == []


def test_create_read_round_trip(store: Store) -> None:
    data = bytes(range(256)) * 40 + b"\x00end"
    store.create("runs/2026/01/02/run-1/heatmap.png", data, content_type="image/png")
    store.create("empty.txt", b"")
    assert store.read("runs/2026/01/02/run-1/heatmap.png") == data
    assert store.read("empty.txt") == b""


def test_read_head_reads_only_the_first_bytes(store: Store) -> None:
    """What the Athena engine reads of a new export to tell its shape: a ranged GET on S3, even of an empty object."""
    data = bytes(range(256)) * 400
    store.create("flow/p0.jsonl", data)
    store.create("flow/empty", b"")
    assert store.read_head("flow/p0.jsonl", 1000) == data[:1000]
    assert store.read_head("flow/p0.jsonl", 10**6) == data
    assert store.read_head("flow/empty", 65536) == b""
    with pytest.raises(NotFound):
        store.read_head("flow/none", 10)


def test_read_missing_key_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="not found"):
        store.read("no/such/key.json")


def test_list_prefix_relative_keys_metadata_sorted(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    contents = {
        "exports/b.csv": b"bb",
        "exports/a.csv": b"a",
        "exports/sub/c.csv": b"ccc",
        "exports-old/x.csv": b"x",  # shares the text 'exports' but not the prefix 'exports/'
        "other.txt": b"other",
    }
    for key, data in contents.items():
        store.create(key, data)

    listed = list(store.list("exports/"))
    assert [o.key for o in listed] == ["exports/a.csv", "exports/b.csv", "exports/sub/c.csv"]
    assert [o.size for o in listed] == [1, 2, 3]
    for info in listed:
        assert isinstance(info.etag, str) and info.etag and '"' not in info.etag
        assert info.last_modified.tzinfo is not None and info.last_modified.utcoffset() is not None
        assert before <= info.last_modified <= datetime.now(UTC) + timedelta(minutes=5)
    assert len({o.etag for o in listed}) == 3

    everything = [o.key for o in store.list()]
    assert everything == sorted(contents)
    assert [o.key for o in store.list("exports")] == sorted(k for k in contents if k.startswith("exports"))
    assert list(store.list("nothing/")) == []


def test_list_crosses_s3_pages(store_factory: StoreFactory) -> None:
    store = store_factory()
    # 2,001 keys: S3 lists at most 1,000 per page, so exactly three pages (1000, 1000, 1) - the boundary case.
    # A few keys outside the prefix must not show up.
    count = 2001
    keys = {f"many/{i:05d}.json": str(i).encode() for i in range(count)}
    keys.update({f"zz-other/{i}.json": b"x" for i in range(3)})
    _create_many(store, keys, workers=4 if store_factory.backend == "moto" else 8)

    pages = []
    if isinstance(store, S3Store):
        store.client.meta.events.register(
            "after-call.s3.ListObjectsV2", lambda parsed, **_: pages.append(parsed.get("KeyCount"))
        )
    listed = list(store.list("many/"))
    assert len(listed) == count
    assert [o.key for o in listed] == sorted(k for k in keys if k.startswith("many/"))
    assert listed[1234].size == len(b"1234")
    if isinstance(store, S3Store):
        assert pages == [1000, 1000, 1]
    assert len(list(store.list())) == count + 3


def test_unicode_keys(store: Store) -> None:
    keys = {
        "flow/exec-1/求人.jsonl": "求人\n".encode(),
        "flow/exec-1/café menu+plus%25.csv": b"1",
        "flow/exec-1/emoji-🙂.json": b"{}",
    }
    for key, data in keys.items():
        store.create(key, data)
    assert [o.key for o in store.list("flow/exec-1/")] == sorted(keys)
    for key, data in keys.items():
        assert store.read(key) == data
    assert [o.key for o in store.list("flow/exec-1/求")] == ["flow/exec-1/求人.jsonl"]


@pytest.mark.parametrize("store_factory", ["memory", *S3_BACKENDS], indirect=True)
def test_etag_is_content_md5(store_factory: StoreFactory) -> None:
    store = store_factory()
    store.create("a.bin", b"hello")
    (info,) = store.list()
    assert info.etag == hashlib.md5(b"hello", usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------------------------------------- create-only


def test_create_existing_key_raises_and_keeps_original(store: Store) -> None:
    store.create("runs/run.json", b"original", content_type="application/json")
    with pytest.raises(AlreadyExists, match="already exists"):
        store.create("runs/run.json", b"intruder")
    with pytest.raises(AlreadyExists):
        store.create("runs/run.json", b"original")  # same bytes: still a refusal, not a silent success
    assert store.read("runs/run.json") == b"original"
    assert [(o.key, o.size) for o in store.list()] == [("runs/run.json", 8)]


def test_create_only_race(store_factory: StoreFactory) -> None:
    """16 writers, one key, at once: exactly one wins, the rest are told, the stored bytes are the winner's."""
    store = store_factory()
    writers = 16
    # SeaweedFS serialises conditional PUTs to one key behind a lock it polls about once a second, so a
    # 16-way race there takes seconds of server time: one round is enough. The others are cheap.
    trials = 1 if store_factory.backend == "seaweed" else 3
    for trial in range(trials):
        key = f"race/{trial}/screenshot.png"
        barrier = threading.Barrier(writers)
        payloads = [f"writer-{i}-".encode() * (100 + i) for i in range(writers)]

        def write(
            i: int, key: str = key, barrier: threading.Barrier = barrier, payloads: list[bytes] = payloads
        ) -> tuple[int, Exception | None]:
            barrier.wait()
            try:
                store.create(key, payloads[i])
            except Exception as error:
                return i, error
            return i, None

        with ThreadPoolExecutor(writers) as pool:
            results = list(pool.map(write, range(writers)))

        winners = [i for i, exc in results if exc is None]
        losers = [exc for _, exc in results if exc is not None]
        assert len(winners) == 1, f"trial {trial}: winners {winners}, errors {losers}"
        assert len(losers) == writers - 1
        for exc in losers:
            assert isinstance(exc, AlreadyExists), repr(exc)
            assert "already exists" in str(exc) and "nothing was overwritten" in str(exc)
        assert store.read(key) == payloads[winners[0]]
    assert len(list(store.list("race/"))) == trials


def test_no_delete_or_overwrite_anywhere(store: Store) -> None:
    forbidden = ("delete", "remove", "unlink", "overwrite", "replace", "put", "write", "rename", "move", "rmtree")
    names = [n for n in dir(store) if not n.startswith("_")]
    offending = [n for n in names if any(word in n.lower() for word in forbidden)]
    assert offending == []
    assert {n for n in names if callable(getattr(type(store), n, None))} >= {"list", "read", "read_head", "create"}
    for cls in (LocalStore, MemoryStore, S3Store):
        public = {n for n in vars(cls) if not n.startswith("_") and callable(vars(cls)[n])}
        assert public == {"list", "read", "read_head", "create"}, cls


# ---------------------------------------------------------------------------------------------- S3 specifics


@S3_ONLY
def test_s3_prefix_isolation_and_content_type(store_factory: StoreFactory) -> None:
    store = store_factory()
    assert isinstance(store, S3Store)
    client = store.client
    client.put_object(Bucket=store.bucket, Key="base-sibling/x.csv", Body=b"no")
    client.put_object(Bucket=store.bucket, Key="top.csv", Body=b"no")
    store.create("in.csv", b"yes", content_type="text/csv")
    assert [o.key for o in store.list()] == ["in.csv"]
    assert client.head_object(Bucket=store.bucket, Key="base/in.csv")["ContentType"] == "text/csv"


def test_s3store_prefix_normalised() -> None:
    assert S3Store("bucket", "exports").prefix == "exports/"
    assert S3Store("bucket", "exports").uri == "s3://bucket/exports/"
    assert S3Store("bucket", "").prefix == ""


def test_open_store_picks_backend(tmp_path: Path) -> None:
    s3 = open_store("s3://my-bucket/exports")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == ("my-bucket", "exports/")
    local = open_store(str(tmp_path))
    assert isinstance(local, LocalStore) and local.root == tmp_path.resolve()


# ---------------------------------------------------------------------------------------------- LocalStore


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_local_never_leaves_partial_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    store.create("a/b.txt", b"1")
    with pytest.raises(AlreadyExists):
        store.create("a/b.txt", b"2")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StoreError, match="No space left"):
        store.create("a/c.txt", b"3")
    monkeypatch.undo()

    assert _all_files(tmp_path) == ["a/b.txt"]
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]


def test_local_race_leaves_no_partial_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    barrier = threading.Barrier(16)

    def write(i: int) -> None:
        barrier.wait()
        with contextlib.suppress(AlreadyExists):
            store.create("k.bin", bytes([i]) * 1000)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(16)))
    assert _all_files(tmp_path) == ["k.bin"]


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd-heatmap", "", ".", "a/.."])
def test_local_refuses_keys_outside_root(tmp_path: Path, key: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    store = LocalStore(root)
    with pytest.raises(StoreError, match="not a file inside the folder"):
        store.create(key, b"x")
    with pytest.raises(StoreError, match="not a file inside the folder"):
        store.read(key)
    assert _all_files(tmp_path) == []


def test_local_refuses_symlink_escape(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(StoreError, match="not a file inside the folder"):
        LocalStore(root).create("link/x.txt", b"x")
    assert list(outside.iterdir()) == []


def test_local_key_clashing_with_file_or_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.create("a", b"file")
    with pytest.raises(StoreError, match="cannot write a/b"):
        store.create("a/b", b"x")
    store.create("d/e", b"x")
    with pytest.raises(StoreError, match="a folder has that name"):
        store.create("d", b"x")
    assert _all_files(tmp_path) == ["a", "d/e"]


def test_local_missing_root_lists_with_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        list(LocalStore(tmp_path / "nope").list())


def test_local_create_makes_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "new" / "out")
    store.create("x.txt", b"x")
    assert [o.key for o in store.list()] == ["x.txt"]
