"""One cache for what the engines and the app keep in memory: least recently used out first, bounded by a count
or by bytes (cachetools), and a key being loaded is loaded once: sessions asking for it meanwhile wait for that
load and get its value, or its error. `memory(budget)` is the process's one byte budget that the app's caches
share (pages, screenshots, previews, thumbnails), each entry measured by `sizeof`."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from heatmap.cores import usable_cores

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadOnce(Generic[K, V]):
    """`maxsize` values, or `maxsize` in `getsizeof` units. A value larger than the whole cache is kept alone
    until the next one arrives (the page a designer is looking at is never read twice in a row), or, with
    `keep_oversize=False` (a budget that must hold), not kept at all."""

    def __init__(
        self, maxsize: float, getsizeof: Callable[[V], float] | None = None, keep_oversize: bool = True
    ) -> None:
        self._values: LRUCache[K, V] = LRUCache(maxsize, getsizeof)
        self._reserved = 0.0  # of maxsize, held by work outside the cache (reserve)
        self._kept: Counter[K] = Counter()  # keys that go last (keep)
        self._oversize: tuple[K, V] | None = None
        self._keep_oversize = keep_oversize
        self._lock = threading.Lock()
        self._loading: dict[K, Future[V]] = {}

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._get(key)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        with self._lock:
            found = self._get(key)
            if found is not None:
                return found
            running = self._loading.get(key)
            owner = running is None
            if running is None:
                running = self._loading[key] = Future()
        if not owner:
            return running.result()
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                del self._loading[key]
            running.set_exception(exc)  # those waiting get the same error
            raise
        with self._lock:
            self._put(key, value)
            del self._loading[key]
        running.set_result(value)
        return value

    @property
    def maxsize(self) -> float:
        return float(self._values.maxsize)

    @property
    def size(self) -> float:
        """What the cache holds now, in `getsizeof` units (the oversize value included)."""
        with self._lock:
            extra = self._values.getsizeof(self._oversize[1]) if self._oversize else 0
            return float(self._values.currsize + extra)

    @property
    def reserved(self) -> float:
        return self._reserved

    def reserve(self, amount: float) -> None:
        """Hold `amount` of the budget for work outside the cache (a picture job's pixels): the least recently used
        entries go until the cache and every reservation fit the budget together, so the process's pictures stay
        within one budget however many jobs run. `release` gives it back."""
        with self._lock:
            self._reserved += amount
            self._fit()

    def release(self, amount: float) -> None:
        with self._lock:
            self._reserved = max(0.0, self._reserved - amount)

    @contextlib.contextmanager
    def keep(self, key: K) -> Iterator[None]:
        """While in the block, `key` goes only when nothing else is left to let go: a picture job keeps the
        screenshot it waits for and works on, which other sessions' entries and reservations let go otherwise."""
        with self._lock:
            self._kept[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._kept[key] -= 1
                if self._kept[key] <= 0:
                    del self._kept[key]

    def keys(self) -> list[K]:
        """Least recently used first."""
        with self._lock:
            return [*self._values.keys(), *([self._oversize[0]] if self._oversize else [])]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._oversize = None

    def _get(self, key: K) -> V | None:
        if self._oversize is not None and self._oversize[0] == key:
            return self._oversize[1]
        return self._values.get(key)

    def _put(self, key: K, value: V) -> None:
        self._oversize = None
        room = self._values.getsizeof(value)
        if room <= self._values.maxsize:
            self._fit(room)  # here, not in cachetools' own eviction, which knows nothing of kept keys
        try:
            self._values[key] = value
        except ValueError:  # larger than the whole cache
            if self._keep_oversize:
                self._values.clear()
                self._oversize = (key, value)
        self._fit()

    def _fit(self, room: float = 0.0) -> None:
        """Let entries go, least recently used first and kept keys last, until the cache, the reservations and
        `room` fit the budget."""
        size, limit = self._values.getsizeof, self._values.maxsize - self._reserved - room
        spared: list[tuple[K, V]] = []  # kept keys, least recently used first, put back afterwards
        held = 0.0
        while self._values and self._values.currsize + held > limit:
            key, value = self._values.popitem()
            if self._kept[key] > 0:
                spared.append((key, value))
                held += size(value)
        while spared and self._values.currsize + held > limit:
            held -= size(spared.pop(0)[1])  # nothing else was left: the budget holds
        for key, value in spared:
            self._values[key] = value


_PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}  # other modes: 4 a pixel


def sizeof(value: Any) -> int:
    """Bytes a cached value holds: what it says (`nbytes`, a DataFrame's estimate, a picture's pixels), else
    Python's own count. The app's own cached objects say it with an `nbytes` property."""
    from PIL import Image

    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, Image.Image):  # as Pillow keeps pixels: RGB in four bytes, like RGBA
        return value.width * value.height * _PILLOW_BYTES.get(value.mode, 4)
    estimated = getattr(value, "estimated_size", None)
    if callable(estimated):  # a polars DataFrame
        return int(estimated())
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    return sys.getsizeof(value)


_MEMORY: list[LoadOnce[Hashable, Any]] = []
_MEMORY_LOCK = threading.Lock()


DEFAULT_BUDGET = 400 * 1024**2


#: Of the cache budget, what picture jobs may hold at once; their reservations let cache entries go while they
#: run, so cache and jobs share one budget. Three quarters was tried (ten designers, think time 5 s): the cache
#: shrank to a quarter and let packed screenshots and pictures go, decoded and encoded again: the server's CPU per
#: designer's round went 3.7 -> 5.1 s and Compare's p95 1.3 -> 7.6 s.
JOBS_SHARE = 0.5
#: Picture jobs running at once, at most: one a core. Each already keeps about one and a half cores busy (its
#: strips on a thread pool), and ISA-L's inflate and deflate hold the GIL, so five at once (what the bytes allowed)
#: passed the GIL to each other at every strip: ten designers uploading together, a packing that takes 0.4 s
#: alone took 3-3.8 s, and the uploads' median was 11.7 s.
JOBS_RUNNING = usable_cores()


@dataclass(eq=False)
class _Waiting:
    """A picture job waiting for room (equal only to itself: two jobs may cost the same)."""

    cost: int


class PictureWork:
    """Full-size picture jobs (decode, render, encode) admitted by the bytes they hold outside the cache: a job
    of `pixels` holds the RGB copies it says it makes (`copies`, two unless told; an RGB copy is RGB_BYTES a
    pixel, as Pillow keeps it; one more when it must decode its picture as well). Jobs run together while their
    bytes fit `limit` (default: JOBS_SHARE of the cache budget), `running` at most (default: JOBS_RUNNING, one a
    core); one job always runs, however large. Under a
    400 MB budget, for 1440 × 20,000 pages: a browser's PNG packed as it inflates (a few strips and its packed
    bytes: 38 MB) beside the browser's picture of a packed page (90 MB) or a save of a map (painted in strips:
    76 MB, render.saving_bytes), or a JPEG upload decoded whole (115 MB) beside either.
    A running job's bytes are reserved in the process's cache (`memory().reserve`), which lets entries go to
    make room: pictures in the cache and in jobs stay within the one budget together. A job that only downscales
    a cached screenshot (`copies`) holds less and runs beside a full one. Of the jobs waiting, the first to ask that
    fits goes: a job that does not fit lets later ones that do go before it (first come, first served was tried
    when the bytes alone decided, and doubled the median wait at five designers: every run queued behind every
    tall job); when any waiting job went, one waited 11.8 s at ten designers' burst while later ones went first.
    Re-entrant per thread: a job that needs a screenshot the cache let go decodes it in its own admission."""

    RGB_BYTES = 4  # a pixel of an RGB picture as Pillow keeps it

    def __init__(self, limit: int | None = None, running: int = JOBS_RUNNING) -> None:
        self._limit = limit
        self._running = running
        self._ready = threading.Condition()
        self._held = 0  # bytes of the jobs running
        self._jobs = 0
        self._queue: list[_Waiting] = []  # the jobs waiting, in the order they asked
        self.most = 0  # the most bytes ever held at once
        self._depth = threading.local()

    @property
    def limit(self) -> int:
        return self._limit if self._limit is not None else int(memory().maxsize * JOBS_SHARE)

    @property
    def held(self) -> int:
        return self._held

    @property
    def waiting(self) -> int:
        """Jobs waiting for room now."""
        return len(self._queue)

    def _fits(self, cost: int) -> bool:
        return self._jobs == 0 or (self._jobs < self._running and self._held + cost <= self.limit)

    def _first_fitting(self) -> _Waiting | None:
        """Of the waiting jobs, in the order they asked, the first that fits now: the one to go."""
        return next((waiting for waiting in self._queue if self._fits(waiting.cost)), None)

    @contextlib.contextmanager
    def __call__(self, pixels: int, keep: Hashable | None = None, copies: float = 2.0) -> Iterator[None]:
        """`copies`: how many RGB copies of `pixels` the job makes (a decode: what the file's mode needs,
        images.decode_cost; saving a map: its strips and PNG; a downscale for the browser: less than one).
        `keep`: the cache key of the picture the job works on (a decoded screenshot), kept while the job waits for
        room and runs (LoadOnce.keep), so reservations and other sessions' entries let other entries go first:
        without it, the screenshot decoded by the run before was often the entry let go, and decoded again inside
        the job. When the cache has let it go anyway, the job decodes it too and holds one copy more.
        """
        cache = memory()
        with cache.keep(keep) if keep is not None else contextlib.nullcontext():
            depth = getattr(self._depth, "value", 0)
            cached = keep is None or cache.get(keep) is not None
            per_pixel = self.RGB_BYTES * (copies if cached else 1 + copies)
            cost = int(max(0, pixels) * per_pixel)
            say: Callable[[int], None] | None = getattr(_WAITING, "say", None) if depth == 0 else None
            ahead = 0
            if depth == 0:
                mine = _Waiting(cost)
                with self._ready:
                    goes = self._fits(cost) and self._first_fitting() is None
                    ahead = 0 if goes else self._jobs + len(self._queue)
                if ahead and say is not None:  # told outside the lock: it writes to a page
                    say(ahead)
                with self._ready:
                    self._queue.append(mine)
                    try:
                        self._ready.wait_for(lambda: self._first_fitting() is mine)
                    finally:
                        self._queue.remove(mine)  # this job's own: _Waiting compares by identity
                        self._ready.notify_all()  # the next in line may fit beside this one
                    if keep is not None and cached and cache.get(keep) is None:  # let go while this job waited
                        cost = int(max(0, pixels) * self.RGB_BYTES * (1 + copies))
                    self._held += cost
                    self._jobs += 1
                    self.most = max(self.most, self._held)
                cache.reserve(cost)
            self._depth.value = depth + 1
            try:
                if ahead and say is not None:  # inside: a page that stops its run here lets the room go
                    say(0)
                yield
            finally:
                self._depth.value = depth
                if depth == 0:
                    cache.release(cost)
                    with self._ready:
                        self._held -= cost
                        self._jobs -= 1
                        self._ready.notify_all()


_RUN = threading.local()  # the keeps of the script run on this thread (run_keeps)
_WAITING = threading.local()  # what a job on this thread says when it must wait for room (when_waiting)


@contextlib.contextmanager
def when_waiting(say: Callable[[int], None]) -> Iterator[None]:
    """In this block, a picture job on this thread that has to wait for room first calls `say(ahead)`, the jobs
    running or waiting before it, and `say(0)` once it starts: with ten designers on two cores an upload can wait
    ten seconds, and the page should say why rather than look stuck."""
    before = getattr(_WAITING, "say", None)
    _WAITING.say = say
    try:
        yield
    finally:
        _WAITING.say = before


@contextlib.contextmanager
def run_keeps() -> Iterator[None]:
    """One script run of a session: what it asked to keep (keep_for_run) goes last from the cache until the run
    ends. A run that decodes an upload then encodes it for the browser waits for room in between; at ten
    designers other sessions' reservations let the picture go in that gap and the encode decoded it again."""
    with contextlib.ExitStack() as stack:
        _RUN.stack = stack
        try:
            yield
        finally:
            _RUN.stack = None


def keep_for_run(key: Hashable) -> None:
    """Keep `key` (LoadOnce.keep) until the script run on this thread ends; outside a run, nothing."""
    stack: contextlib.ExitStack | None = getattr(_RUN, "stack", None)
    if stack is not None:
        stack.enter_context(memory().keep(key))


#: The process's picture jobs. Sessions hold no pixels between jobs (heatmap/ui/shots.Shot), so the cache and
#: these jobs are all the pictures a server holds.
picture_work = PictureWork()


def memory(budget_bytes: int | None = None) -> LoadOnce[Hashable, Any]:
    """The process's cache, shared by every session and every kind of entry (keys are tuples that start with the
    kind). A value larger than the budget is computed and used, never kept. Without `budget_bytes`, the cache as
    last set up (the app sets it from its settings on every run); a new budget starts a new, empty cache."""
    with _MEMORY_LOCK:
        wanted = budget_bytes if budget_bytes is not None else (_MEMORY[0].maxsize if _MEMORY else DEFAULT_BUDGET)
        if not _MEMORY or _MEMORY[0].maxsize != wanted:
            _MEMORY[:] = [LoadOnce(wanted, sizeof, keep_oversize=False)]
        return _MEMORY[0]
