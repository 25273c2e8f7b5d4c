"""Compute once per key: a small bounded cache whose concurrent callers of one key wait for one computation.

For results that are costly to build, asked for in bursts and worth keeping a little while: the presenter kit
(one build per page address and theme, however many people press its button at once). A key's first caller
builds the value; every caller that arrives while it builds waits for that build and gets the same object
("single flight"). Builds of different keys run one at a time (``serial=True``, the default), so a burst of
different keys queues instead of multiplying the memory a build holds. The least recently used value leaves
when a new one would exceed ``max_entries``. A build that raises is not cached: its waiters see the error and
the next caller tries again. Values are shared: treat them as read-only (bytes are).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

V = TypeVar("V")


class Once(Generic[V]):
    """``get(key, build)``: ``build()``'s value for ``key``, built at most once while it stays cached.

    Thread-safe. ``max_entries`` >= 1 bounds the cached values (not the builds in flight).

    Raises:
        ValueError: for ``max_entries`` < 1.
    """

    def __init__(self, max_entries: int, *, serial: bool = True) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self._done: OrderedDict[Hashable, V] = OrderedDict()
        self._flying: dict[Hashable, Future[V]] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock() if serial else None
        self.builds = 0  # how many times a build ran (for tests and benches)

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value of ``key``, or the one being built for it, or a new one from ``build()``.

        Raises:
            Exception: whatever ``build`` raised, to its caller and to every caller that waited for it.
        """
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            future = self._flying.get(key)
            owner = future is None
            if future is None:
                future = self._flying[key] = Future()
        if not owner:
            return future.result()
        try:
            value = self._build(build)
        except BaseException as err:
            with self._lock:
                del self._flying[key]
            future.set_exception(err)
            raise
        with self._lock:
            del self._flying[key]
            self._done[key] = value
            while len(self._done) > self.max_entries:
                self._done.popitem(last=False)
        future.set_result(value)
        return value

    def _build(self, build: Callable[[], V]) -> V:
        with self._lock:
            self.builds += 1
        if self._build_lock is None:
            return build()
        with self._build_lock:
            return build()

    def peek(self, key: Hashable) -> V | None:
        """The cached value of ``key`` without building it (and without making it recently used); None if absent."""
        with self._lock:
            return self._done.get(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._done)


__all__ = ["Once"]
