"""The one cache of the engines and the app: least recently used out first, by count or by bytes, and a key being
loaded loaded once, its value or its error reaching every session that asked meanwhile."""

import threading
import time

import pytest

from heatmap.caching import LoadOnce


def test_least_recently_used_goes_first_by_count() -> None:
    cache: LoadOnce[str, int] = LoadOnce(2)
    for key in ("a", "b"):
        cache.get_or_load(key, lambda key=key: ord(key))
    assert cache.get("a") == 97  # "a" is now the most recent
    cache.get_or_load("c", lambda: 99)
    assert cache.keys() == ["a", "c"]


def test_bounded_by_size_and_a_value_larger_than_the_cache_is_kept_alone() -> None:
    cache: LoadOnce[str, bytes] = LoadOnce(10, len)
    cache.get_or_load("a", lambda: b"12345")
    cache.get_or_load("b", lambda: b"1234")
    cache.get_or_load("c", lambda: b"123")
    assert cache.keys() == ["b", "c"], "9 bytes: a went"
    cache.get_or_load("huge", lambda: b"x" * 50)
    assert cache.keys() == ["huge"] and cache.get("huge") == b"x" * 50
    cache.get_or_load("d", lambda: b"1")
    assert cache.keys() == ["d"]


def test_eight_threads_asking_one_key_load_it_once() -> None:
    cache: LoadOnce[str, int] = LoadOnce(4)
    calls, started = [], threading.Event()

    def load() -> int:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_load("k", load))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and results == [42] * 8


def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: LoadOnce[str, int] = LoadOnce(4)
    release = threading.Event()

    def failing() -> int:
        release.wait(5)
        raise RuntimeError("the bucket is unreachable")

    errors: list[str] = []

    def ask() -> None:
        try:
            cache.get_or_load("k", failing)
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join()
    assert errors == ["the bucket is unreachable"] * 3
    assert cache.get_or_load("k", lambda: 7) == 7, "the next ask loads again"
    with pytest.raises(ZeroDivisionError):
        cache.get_or_load("z", lambda: 1 // 0)
