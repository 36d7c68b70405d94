"""One memory budget for the server's caches (heatmap.caching.memory): never more bytes than the budget, entries
measured, a screenshot decoded once whether it came from an upload or the store, one larger than the budget
refused in one sentence, a preview or difference map rendered once for every session that asks for the same
view, and freed pictures given back to the system."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from heatmap import caching
from heatmap.caching import LoadOnce, PictureWork, sizeof
from heatmap.images import ImageError, load_screenshot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def budget() -> Iterator[LoadOnce]:
    """A 20 MB budget for the test, the default one back afterwards."""
    yield caching.memory(20 * 1024**2)
    caching.memory(caching.DEFAULT_BUDGET)


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 400)), max_size=60))
@settings(max_examples=60, deadline=None)
def test_a_budget_is_never_exceeded(puts: list[tuple[int, int]]) -> None:
    cache: LoadOnce[int, bytes] = LoadOnce(1000, len, keep_oversize=False)
    for key, size in puts:
        cache.get_or_load(key, lambda size=size: b"x" * size)
        assert cache.size <= 1000
    huge = cache.get_or_load(-1, lambda: b"x" * 5000)
    assert len(huge) == 5000 and cache.get(-1) is None, "larger than the budget: used, never kept"


def test_entries_are_measured_by_what_they_hold() -> None:
    assert sizeof(b"12345") == 5
    assert sizeof(Image.new("RGB", (100, 20))) == sizeof(Image.new("RGBA", (100, 20))) == 100 * 20 * 4  # as Pillow
    assert sizeof(Image.new("L", (100, 20))) == 100 * 20
    frame = pl.DataFrame({"a": np.arange(1000, dtype=np.int64)})
    assert sizeof(frame) == frame.estimated_size() >= 8000
    shot = load_screenshot(png(400, 1000), page_shape=True)
    assert sizeof(shot) == 400 * 1000 * 4 + len(shot.data)


def test_a_screenshot_is_decoded_once_from_an_upload_or_the_store(budget: LoadOnce) -> None:
    from heatmap.ui.shots import decoded

    raw = png(400, 1200)
    reads: list[str] = []

    def from_upload() -> bytes:
        reads.append("upload")
        return raw

    def from_store() -> bytes:
        reads.append("store")
        return raw

    first = decoded("a" * 64, from_upload)
    assert decoded("a" * 64, from_store) is first and reads == ["upload"], "one entry per sha256"
    assert budget.size >= sizeof(first)
    # kept packed (heatmap.drawing.packed): a plain page is a few kilobytes, not 400 × 1,200 × 4 bytes
    assert sizeof(first) == first.picture.nbytes < 400 * 1200 * 4 / 50
    assert np.array_equal(np.asarray(first.unpacked()), np.asarray(Image.open(io.BytesIO(raw))))


def test_a_screenshot_larger_than_the_budget_is_refused_in_one_sentence(budget: LoadOnce) -> None:
    from heatmap.ui.shots import decoded

    raw = png(1440, 6000)  # 35 MB of pixels, over the 20 MB budget
    with pytest.raises(ImageError) as refused:
        decoded("b" * 64, lambda: raw)
    assert refused.value.reason == "over_budget" and "HEATMAP_CACHE_BUDGET_MB" in str(refused.value)
    assert budget.size == 0


def test_a_session_holds_a_screenshots_handle_never_its_pixels(budget: LoadOnce) -> None:
    """Ten designers' runs can wait a long time for a picture job: what they hold meanwhile is a handle, so the
    decoded pages alive are the cache's and the running jobs', never one per waiting session."""
    import gc
    import hashlib
    import weakref

    from heatmap.ui.shots import Shot, decoded

    raw = png(400, 1200)
    reads: list[int] = []

    def read() -> bytes:
        reads.append(1)
        return raw

    sha = hashlib.sha256(raw).hexdigest()
    shot = Shot.of(decoded(sha, read), read)
    assert (shot.width, shot.height, shot.format, shot.key) == (400, 1200, "png", f"screenshots/{sha}.png")
    alive = weakref.ref(shot.pixels())
    budget.clear()  # the cache lets it go (another designer's pictures came in)
    gc.collect()
    assert alive() is None, "the handle kept the decoded page alive"
    assert shot.pixels().unpacked().size == (400, 1200) and len(reads) == 2, "decoded again from its bytes"
    assert shot.data == raw and len(reads) == 3


def test_picture_jobs_decode_inside_their_own_admission() -> None:
    """A job that needs a screenshot the cache let go decodes it within its own admission: two jobs doing so at
    once, with no room left for a third, finish (waiting for room they hold themselves would block both)."""
    import threading

    work = PictureWork(limit=16 * 100)  # two jobs of 100 pixels (800 bytes each) fit, no more
    inside = threading.Barrier(2, timeout=5)
    done: list[int] = []

    def job(number: int) -> None:
        with work(100):
            inside.wait()  # both are in: the limit is reached
            with work(100):  # the decode inside the job
                done.append(number)

    threads = [threading.Thread(target=job, args=(n,), daemon=True) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(done) == [0, 1] and work.held == 0 and work.most == 1600


@pytest.mark.parametrize(
    ("pixels", "running", "together"),
    [(75, 6, 4), (100, 6, 3), (150, 6, 2), (250, 6, 1), (10_000, 6, 1), (75, 2, 2), (75, 1, 1), (10_000, 2, 1)],
)
def test_picture_jobs_run_together_while_their_bytes_fit(pixels: int, running: int, together: int) -> None:
    """Jobs are admitted by the bytes they hold (8 a pixel): as many at once as fit the limit, no more than
    `running` (a core each: more only passed the GIL to each other), and one alone when it is larger than the
    limit (a screenshot the cache admitted is always drawn)."""
    import threading
    import time

    work = PictureWork(limit=2400, running=running)
    active, most, lock = [0], [0], threading.Lock()

    def job() -> None:
        with work(pixels):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(0.1)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most[0] == together and work.held == 0


def test_waiting_picture_jobs_go_in_the_order_they_asked_unless_an_earlier_one_does_not_fit() -> None:
    """When any job that fitted could go, one waited 11.8 s at ten designers' burst: a job asking as room freed
    went before those woken to take it. The first to ask goes; a later one goes first only while the earlier does
    not fit beside what runs."""
    started: list[str] = []

    def job(work: PictureWork, name: str, pixels: int) -> threading.Thread:
        def run() -> None:
            with work(pixels):
                started.append(name)

        thread, waiting = threading.Thread(target=run, daemon=True), work.waiting
        thread.start()
        while work.waiting == waiting and name not in started:  # queued (or gone) before the next one asks
            time.sleep(0.005)
        return thread

    one = PictureWork(limit=1000, running=1)  # 8 bytes a pixel (two copies of four)
    inside, done = threading.Event(), threading.Event()

    def again() -> None:  # a job that ends and asks again at once, before the waiting one has woken
        with one(10):
            inside.set()
            done.wait(5)
        with one(10):
            started.append("asked again")

    first = threading.Thread(target=again, daemon=True)
    first.start()
    assert inside.wait(5)
    line = [job(one, "waiting", 10)]
    done.set()
    for thread in [first, *line]:
        thread.join(5)
    assert started == ["waiting", "asked again"]
    started.clear()
    with _room_taken(one, 10):
        line = [job(one, "first", 10), job(one, "second", 10), job(one, "third", 10)]
    for thread in line:
        thread.join(5)
    assert started == ["first", "second", "third"]
    started.clear()
    two = PictureWork(limit=1000, running=2)
    with _room_taken(two, 100):  # 800 bytes: a job of 25 pixels (200 bytes) fits beside it, one of 50 does not
        line = [job(two, "large", 50), job(two, "small", 25)]
        line[1].join(5)
        assert started == ["small"], "the small one fits beside the running job; the large one waits"
    line[0].join(5)
    assert started == ["small", "large"] and two.held == 0 and two.waiting == 0


def test_a_map_is_made_once_for_everyone_who_opens_the_view(budget: LoadOnce) -> None:
    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.ui import figures, mapview
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import MapSettings, View

    engine = load_dataset(LocalStore(ensure_demo(caching_home())))
    last = engine.catalog.days[-1]
    view = View(page="/", start=date(last.year, last.month, 1), end=last, kind="attention")
    shot = shot_of(png(1440, 3000, (240, 240, 240)))
    labels = figures.hover_labels(Translator("en"), 100)
    first = mapview.live_preview(shot, view, numbers(engine, view), labels)
    again = mapview.live_preview(shot, view, numbers(engine, view), labels)  # another session, same link
    assert again is first
    colours = view.with_(kind="clicks", display=MapSettings(opacity=0.8, ramp="viridis"))
    assert mapview.live_preview(shot, colours, numbers(engine, view), labels) is first, "the browser paints them"
    moved = mapview.live_preview(shot, view.with_(display=MapSettings(shift=40)), numbers(engine, view), labels)
    assert moved is not first and moved.layer.live != first.layer.live
    segment = view.with_(where={"deviceCategory": ("mobile",)})
    assert mapview.live_preview(shot, segment, numbers(engine, segment), labels) is not first


@pytest.mark.parametrize(("budget_mb", "together"), [(20, 1), (220, 2), (300, 3)])
def test_renders_at_once_hold_no_more_than_their_share_of_the_budget(
    budget_mb: int, together: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each save holds what painting its map in strips holds outside the cache budget (render.saving_bytes: 52 MB
    for 1440 × 3,000): eight sessions at once render as many at a time as fit their share of the budget
    (caching.JOBS_SHARE), one when none fits."""
    import threading
    import time

    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.ui import mapview
    from heatmap.usecases import pictures
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import MapSettings, View

    caching.memory(budget_mb * 1024**2)
    monkeypatch.setattr(caching.picture_work, "_running", 8)  # the bytes decide here, not the cores
    engine = load_dataset(LocalStore(ensure_demo(caching_home())))
    last = engine.catalog.days[-1]
    view = View(page="/", start=date(last.year, last.month, 1), end=last, kind="attention")
    nums = numbers(engine, view)
    shot = shot_of(png(1440, 3000, (240, 240, 240)))
    active, most, lock = [0], [0], threading.Lock()
    draw = pictures.draw

    def counted_draw(*args: object, **kwargs: object) -> object:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.2)  # long enough for every thread to be asking at once
        try:
            return draw(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(pictures, "draw", counted_draw)
    sessions = [
        threading.Thread(
            target=mapview.full_picture, args=(shot, view.with_(display=MapSettings(opacity=0.3 + i / 20)), nums)
        )
        for i in range(8)
    ]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join()
    caching.memory(caching.DEFAULT_BUDGET)
    assert most[0] == together


def shot_of(data: bytes) -> object:
    """A screenshot as the app's sessions hold it (heatmap/ui/shots.Shot): its pixels in the process's cache."""
    import hashlib

    from heatmap.ui import shots

    return shots.Shot.of(shots.decoded(hashlib.sha256(data).hexdigest(), lambda: data), lambda: data)


def caching_home() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="demo-")


def test_the_same_numbers_summed_in_another_order_are_the_same_picture() -> None:
    """Parallel sums differ in their last bits from run to run: the preview's key must not."""
    from dataclasses import replace

    from heatmap.statistics.metrics import BandTable, ClickGrid
    from heatmap.ui.mapview import numbers_fingerprint
    from heatmap.usecases.numbers import Numbers

    bands = pl.DataFrame({"band": [0, 1], "seconds_per_view": [3.3, 1.1]})
    noisy = bands.with_columns(pl.col("seconds_per_view") * (1 + 4e-16))
    clicks = ClickGrid(counts=np.zeros((2, 100), dtype=np.int64), page_views=10)
    a = Numbers(BandTable(page_views=10, bands=bands), clicks)
    assert numbers_fingerprint(a) == numbers_fingerprint(replace(a, bands=BandTable(page_views=10, bands=noisy)))
    changed = bands.with_columns(pl.col("seconds_per_view") * 1.001)
    assert numbers_fingerprint(a) != numbers_fingerprint(replace(a, bands=BandTable(page_views=10, bands=changed)))


FRAGMENTS = """
import sys
import numpy as np
import psutil
from heatmap.allocator import pin_mmap_threshold
if sys.argv[1] == "pinned":
    assert pin_mmap_threshold()
rss = lambda: psutil.Process().memory_info().rss / 2**20
big = np.ones(16 * 2**20 // 8)
del big  # unpinned, glibc now serves blocks up to 16 MB from its heaps
before = rss()
kept, blocks = [], []
for _ in range(40):  # 8 MB buffers, as a render makes, with small objects that live on between them
    blocks.append(np.ones(8 * 2**20 // 8))
    kept.append(bytearray(4096))
del blocks
print(round(rss() - before))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_buffers_go_back_to_the_system_once_the_threshold_is_pinned() -> None:
    def retained_mb(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", FRAGMENTS, mode], capture_output=True, text=True, check=True, cwd=ROOT
        )
        return int(run.stdout)

    assert retained_mb("default") > 200  # why the app pins it: 320 MB of freed buffers stay resident
    assert retained_mb("pinned") < 20


def test_a_shown_map_leaves_no_copy_of_its_page_in_urllibs_cache() -> None:
    """st.iframe asks urllib whether the viewer's HTML is a URL, and CPython's urlsplit keeps its last 128
    arguments: without clearing, each map shown (2 MB) stayed alive there, the soak's growth."""
    from urllib.parse import urlsplit

    from heatmap.ui import mapview

    if not hasattr(urlsplit, "cache_info"):
        pytest.skip("this Python's urlsplit keeps no cache")
    for number in range(3):
        mapview.show_frame(f"<!doctype html><p>{number}</p>" + "x" * 2_000_000, 500, "map")
        assert urlsplit.cache_info().currsize == 0


def test_picture_jobs_take_their_bytes_from_the_one_budget(budget: LoadOnce) -> None:
    """While a job runs, its bytes are reserved in the cache: entries go (least recently used first) so that the
    cache and the jobs together stay within the budget; the room comes back when the job ends."""
    block = 1024**2
    for n in range(20):
        budget.get_or_load(("page", n), lambda: b"x" * block)  # 20 MB: the budget is full
    work = PictureWork(limit=budget.maxsize)
    with work(block):  # 8 bytes a pixel: 8 MB held outside the cache
        assert budget.reserved == 8 * block and budget.size + budget.reserved <= budget.maxsize
        assert budget.get(("page", 0)) is None and budget.get(("page", 19)) is not None  # the oldest went
        budget.get_or_load(("page", 20), lambda: b"x" * block)
        assert budget.size + budget.reserved <= budget.maxsize
        with work(block):  # the job's own decode: reserved once
            assert budget.reserved == 8 * block
    assert budget.reserved == 0
    for n in range(21, 29):
        budget.get_or_load(("page", n), lambda: b"x" * block)
    assert budget.size == budget.maxsize  # the room came back


def test_a_job_keeps_the_picture_it_works_on_while_its_bytes_are_reserved(budget: LoadOnce) -> None:
    """The screenshot a job paints was often the least recently used entry when the job reserved its bytes, so the
    reservation let it go and the job decoded it again: `keep` makes it the most recently used first."""
    block = 1024**2
    budget.get_or_load(("shot", "mine"), lambda: b"x" * 4 * block)  # decoded by the run before
    for n in range(16):
        budget.get_or_load(("page", n), lambda: b"x" * block)  # other sessions' pages since: 20 MB, full
    work = PictureWork(limit=budget.maxsize)
    with work(block, keep=("shot", "mine")):  # 8 MB reserved: the oldest pages go, not the picture
        assert budget.get(("shot", "mine")) is not None and budget.get(("page", 0)) is None
    for n in range(6, 16):
        budget.get(("page", n))  # the pages are used again: the picture is the oldest entry once more
    for n in range(16, 22):
        budget.get_or_load(("page", n), lambda: b"x" * block)  # and the cache is full again
    with work(block):  # without `keep` it is the first to go
        assert budget.get(("shot", "mine")) is None


def test_a_job_waiting_for_room_keeps_the_picture_it_waits_for(budget: LoadOnce) -> None:
    """At ten designers a job often waited for room while other sessions' pages and reservations let its screenshot
    go, then decoded it again inside the job (26 of 36 decodes in benchmarks/load.py at N = 10 were again): while a
    job waits for or works on `keep`, the cache lets other entries go first, and `keep` only when nothing else is
    left; the budget holds throughout."""

    block = 1024**2
    work = PictureWork(limit=9 * block)  # a full job of 1 M pixels (8 MB) leaves no room for a light one (2 MB)
    budget.get_or_load(("shot", "mine"), lambda: b"x" * 4 * block)

    def light() -> None:
        with work(block, keep=("shot", "mine"), copies=0.5):
            seen.append(budget.get(("shot", "mine")) is not None)

    seen: list[bool] = []
    with _room_taken(work, block):
        waiter = _waiting(work, light)
        for n in range(12):  # other sessions' pages meanwhile: 12 MB beside 8 reserved; the picture is the oldest
            budget.get_or_load(("page", n), lambda: b"x" * block)
            assert budget.size + budget.reserved <= budget.maxsize
        assert budget.get(("shot", "mine")) is not None and budget.get(("page", 0)) is None
    waiter.join(5)
    assert seen == [True], "the job found its picture in the cache: no decode again"
    with work(block, keep=("shot", "mine"), copies=0.5):
        for n in range(12, 40):  # a kept picture still goes when nothing else is left: the budget holds
            budget.get_or_load(("page", n), lambda: b"x" * 3 * block)
            assert budget.size + budget.reserved <= budget.maxsize


def test_a_job_that_must_wait_says_how_many_are_ahead_then_that_it_started(budget: LoadOnce) -> None:
    """The page tells a designer why nothing happens yet (caching.when_waiting, heatmap/ui/busy.py): a job that
    finds no room says how many jobs are ahead before it waits and 0 once it runs; a job that fits says nothing;
    a page that stops its run as it is told (Streamlit's rerun) lets the room go."""
    from heatmap.caching import when_waiting

    block = 1024**2
    work = PictureWork(limit=9 * block)  # one full job of 1 M pixels (8 MB) at a time
    heard: list[object] = []
    with when_waiting(heard.append), work(block):
        heard.append("ran")
    assert heard == ["ran"]

    def second() -> None:
        with when_waiting(heard.append), work(block):
            heard.append("ran")

    def stopped(ahead: int) -> None:
        if ahead == 0:
            raise RuntimeError("the page stopped its run")

    def stopped_job() -> None:
        with contextlib.suppress(RuntimeError), when_waiting(stopped), work(block):
            heard.append("not reached")

    heard.clear()
    with _room_taken(work, block):
        waiter = _waiting(work, second)
        assert heard == [1], "told before it waits: one job ahead"
    waiter.join(5)
    assert heard == [1, 0, "ran"]
    with _room_taken(work, block):
        waiter = _waiting(work, stopped_job)
    waiter.join(5)
    assert heard == [1, 0, "ran"] and work.held == 0 and budget.reserved == 0, "nothing stays reserved"


@contextlib.contextmanager
def _room_taken(work: PictureWork, pixels: int) -> Iterator[None]:
    """A full picture job of `pixels` running on another thread until the block ends."""
    inside, release = threading.Event(), threading.Event()

    def full() -> None:
        with work(pixels):
            inside.set()
            release.wait(5)

    runner = threading.Thread(target=full, daemon=True)
    runner.start()
    assert inside.wait(5)
    try:
        yield
    finally:
        release.set()
        runner.join(5)


def _waiting(work: PictureWork, job: Callable[[], None]) -> threading.Thread:
    """`job` started on its own thread, once it waits for room in `work`."""
    waiter = threading.Thread(target=job, daemon=True)
    waiter.start()
    while work.waiting == 0:
        time.sleep(0.01)
    return waiter


def test_a_run_keeps_the_pictures_it_decoded_until_it_ends(budget: LoadOnce) -> None:
    """An upload's run decodes the picture, then waits for room to encode it for the browser: the picture stays in
    the cache for the rest of that run (caching.run_keeps around each page run), and is an ordinary entry after."""
    import hashlib

    from heatmap.ui import shots

    raw = png(500, 500)  # 1 MB decoded
    sha = hashlib.sha256(raw).hexdigest()
    block = 1024**2
    with caching.run_keeps():
        shots.decoded(sha, lambda: raw)
        for n in range(30):  # other sessions' pages: 30 MB through a 20 MB budget
            budget.get_or_load(("page", n), lambda: b"x" * block)
        assert budget.get(shots._pixels_key(sha)) is not None
    for n in range(30, 60):
        budget.get_or_load(("page", n), lambda: b"x" * block)
    assert budget.get(shots._pixels_key(sha)) is None, "kept only while the run lasted"
    shots.decoded(sha, lambda: raw)  # outside a run: nothing to keep it for
    for n in range(60, 90):
        budget.get_or_load(("page", n), lambda: b"x" * block)
    assert budget.get(shots._pixels_key(sha)) is None


def test_a_screenshots_size_is_known_without_decoding_it_again(
    budget: LoadOnce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run of a session asks for its screenshot's size (by_sha): once checked and decoded in this process,
    the size is known without the pixels, so a run after the cache let them go decodes nothing."""
    import hashlib

    from heatmap.ui import shots

    raw = png(300, 900)
    sha = hashlib.sha256(raw).hexdigest()
    decodes: list[int] = []
    real = shots._packed
    monkeypatch.setattr(shots, "_packed", lambda *a, **k: decodes.append(1) or real(*a, **k))
    monkeypatch.setattr(shots, "reader", lambda ctx, sha: lambda: raw)
    first = shots.by_sha(None, sha)  # type: ignore[arg-type]
    budget.clear()  # the cache lets the pixels go
    again = shots.by_sha(None, sha)  # type: ignore[arg-type]
    assert first is not None and again is not None and len(decodes) == 1
    assert (again.width, again.height, again.format, again.key) == (300, 900, "png", first.key)
    assert again.pixels().unpacked().size == (300, 900) and len(decodes) == 2, (
        "the pixels are decoded when a job needs them"
    )


def test_a_downscale_of_a_cached_screenshot_holds_less_than_a_full_job(budget: LoadOnce) -> None:
    """Making the browser's picture from a screenshot in the cache holds about half an RGB copy, not two: it runs
    beside a full render instead of waiting for it; when the screenshot is not cached it counts as a full job."""
    work = PictureWork(limit=1100)  # a full job of 100 pixels (800 bytes) and a light one (200), not two full
    budget.get_or_load(("shot", "cached"), lambda: b"x" * 1000)
    with work(100), work(100, keep=("shot", "cached"), copies=0.5):
        pass  # the inner one is the same thread: re-entrant, so admitted at once either way
    assert work.held == 0
    import threading

    inside = threading.Event()
    release = threading.Event()

    def full() -> None:
        with work(100):
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=full, daemon=True)
    thread.start()
    inside.wait(5)
    with work(100, keep=("shot", "cached"), copies=0.5):  # admitted while the full job runs
        assert work.held == 800 + 200
    budget.clear()
    light_done = threading.Event()

    def uncached() -> None:
        with work(100, keep=("shot", "cached"), copies=0.5):  # not cached: a full job, which waits
            light_done.set()

    waiting = threading.Thread(target=uncached, daemon=True)
    waiting.start()
    assert not light_done.wait(0.3)
    release.set()
    assert light_done.wait(5)
    thread.join(5)
    waiting.join(5)
    assert work.held == 0


def test_a_decode_reserves_what_the_files_mode_holds(budget: LoadOnce, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow keeps RGB in four bytes a pixel, flattening RGBA makes an RGB copy and an alpha channel, and grey
    an RGB copy: a small page's job reserves 4, 9 and 5 bytes a pixel (held while it decodes or packs). A tall
    RGB PNG, packed as it inflates, reserves a few strips and its packed bytes (at most twice the file's)."""
    import hashlib

    from heatmap import caching
    from heatmap.images import PACKING_BYTES
    from heatmap.ui import shots

    held: list[int] = []
    real = shots._packed
    monkeypatch.setattr(shots, "_packed", lambda *a, **k: held.append(caching.picture_work.held) or real(*a, **k))
    files = []
    for mode, size in (("RGB", (300, 900)), ("RGBA", (300, 900)), ("L", (300, 900)), ("RGB", (250, 18_000))):
        buffer = io.BytesIO()
        Image.new(mode, size).save(buffer, format="PNG")
        files.append(buffer.getvalue())
        shots.decoded(hashlib.sha256(files[-1]).hexdigest(), lambda raw=files[-1]: raw)
    assert held[:3] == [300 * 900 * 4, 300 * 900 * 9, 300 * 900 * 5]
    assert held[3] == pytest.approx(PACKING_BYTES + 2 * len(files[3]), abs=2)
    assert held[3] < 250 * 18_000 * 4 / 2
