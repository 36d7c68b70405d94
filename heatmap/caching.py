"""One cache for what the engines and the app keep in memory: least recently used out first, bounded by a count
or by bytes (cachetools), and a key being loaded is loaded once: sessions asking for it meanwhile wait for that
load and get its value, or its error."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadOnce(Generic[K, V]):
    """`maxsize` values, or `maxsize` in `getsizeof` units. A value larger than the whole cache is still kept,
    alone, until the next one arrives: the page a designer is looking at is never read twice in a row."""

    def __init__(self, maxsize: float, getsizeof: Callable[[V], float] | None = None) -> None:
        self._values: LRUCache[K, V] = LRUCache(maxsize, getsizeof)
        self._oversize: tuple[K, V] | None = None
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
        try:
            self._values[key] = value
        except ValueError:  # larger than the whole cache
            self._values.clear()
            self._oversize = (key, value)
