"""``lucky5.once.Once``: one build per key however many threads ask at once, a bounded number of values kept,
and a failed build neither cached nor hidden from those who waited for it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lucky5.once import Once


def test_twenty_concurrent_callers_of_one_key_share_one_build():
    cache: Once[object] = Once(4)
    started = threading.Barrier(20)
    calls = []

    def build() -> object:
        calls.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other caller to arrive while it runs
        return object()

    def ask(_: int) -> object:
        started.wait(timeout=10)
        return cache.get(("https://a/", "light"), build)

    with ThreadPoolExecutor(max_workers=20) as pool:
        values = list(pool.map(ask, range(20)))
    assert len(calls) == 1 and cache.builds == 1
    assert all(v is values[0] for v in values)
    assert cache.get(("https://a/", "light"), build) is values[0] and len(calls) == 1


def test_builds_of_different_keys_run_one_at_a_time():
    cache: Once[int] = Once(8)
    running, most = [0], [0]
    lock = threading.Lock()

    def build(k: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return k

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(lambda k: cache.get(k, lambda: build(k)), range(6))) == list(range(6))
    assert most[0] == 1 and cache.builds == 6


def test_at_most_max_entries_are_kept_and_the_least_recently_used_leaves():
    cache: Once[str] = Once(2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "A again")  # a is now the most recently used
    cache.get("c", lambda: "C")
    assert len(cache) == 2
    assert cache.peek("b") is None and cache.peek("a") == "A" and cache.peek("c") == "C"
    assert cache.get("b", lambda: "B again") == "B again"


def test_a_failed_build_reaches_every_waiter_and_is_tried_again_next_time():
    cache: Once[str] = Once(2)
    gate = threading.Event()

    def failing() -> str:
        gate.wait(timeout=10)
        raise RuntimeError("no disk")

    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(cache.get, "k", failing) for _ in range(5)]
        time.sleep(0.2)
        gate.set()
        errors = [f.exception(timeout=10) for f in futures]
    assert all(isinstance(e, RuntimeError) and str(e) == "no disk" for e in errors)
    assert cache.builds == 1 and cache.peek("k") is None
    assert cache.get("k", lambda: "fine") == "fine" and cache.builds == 2


@pytest.mark.parametrize("size", [0, -1])
def test_a_cache_that_could_keep_nothing_is_refused(size):
    with pytest.raises(ValueError, match="max_entries"):
        Once(size)
