"""Every phone of a room hears the same news: one watcher per room in this process, one event shared by all.

A light phone keeps one server-sent-event stream open (``page.server.phone``). Behind all the streams of one
room in this process is one ``Feed``: it reads the room's ``Pulse`` (stage, counts, version: one cheap read)
every ``TICK`` seconds, and when something changed it reads the room once, computes what phones are told
(``lucky5.room.standing``: the stage, the medians, the spread) and encodes it once as an SSE event. Every
stream of the room then sends those same bytes. So a room of 1,000 phones costs one read per tick, whatever
the number of phones, and a stage change reaches every phone within about ``TICK``.

Runs arrive faster than anyone reads medians: a change of the runs is read at most every ``FULL_EVERY``
seconds, and so are new joins (they only change the count): each event is sent to every phone, so a hall
arriving at once would otherwise be sent an event per tick. A change of stage goes out at once, and so does
a change of the stage's vote (``lucky5.room.asked``: opened, closed, revealed, skipped; never the votes): the
feed reads it with the pulse, one more cheap read per tick. With Redis, replicas each run their own feed on
the shared room.

Runs on the server's event loop; store calls go to worker threads (a Redis call blocks).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from anyio import to_thread

from lucky5.room import MemoryStore, Poll, Pulse, RedisStore, RoomError, asked, gone, standing

TICK = 0.1  # s between two reads of a room's pulse (one cheap read: a lock in memory, a round trip to Redis)
FULL_EVERY = 1.0  # s at least between two events for runs or joins: each event goes to every phone
IDLE_SECONDS = 30.0  # a feed with no stream left stops after this long (a reloading phone comes back at once)
HEARTBEAT = 15.0  # s between comments on an idle stream, so proxies keep it open
RETRY_MS = 1000  # EventSource reconnects this soon after a stream broke
MAX_FEEDS = 200  # rooms watched at once by this process; more are refused (a store holds at most 50)

Store = Callable[[], MemoryStore | RedisStore]


def sse(data: dict[str, Any]) -> bytes:
    """One server-sent event carrying ``data`` as JSON (one line: JSON escapes every newline)."""
    return b"data: " + json.dumps(data, separators=(",", ":"), allow_nan=False).encode() + b"\n\n"


class Feed:
    """One room's news in this process: the latest event (``event``, encoded once) and a way to wait for the next."""

    def __init__(self, code: str, store: Store) -> None:
        self.code = code
        self.store = store
        self.state: dict[str, Any] | None = None  # the latest standing (or error) sent
        self.event = b""
        self.serial = 0  # grows with every new event
        self.listeners = 0
        self.idle_since = time.monotonic()
        self._changed = asyncio.Event()
        self.fresh = asyncio.Event()  # set once this feed's running watch has read the room
        self.task: asyncio.Task[None] | None = None
        self.seen_at: float | None = None  # Unix seconds of the last answer about the room

    def publish(self, state: dict[str, Any]) -> None:
        if state == self.state:
            return
        self.state, self.event, self.serial = state, sse(state), self.serial + 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def next(self, seen: int) -> int:
        """Wait until an event newer than ``seen`` exists; returns its serial."""
        while self.serial == seen:
            await self._changed.wait()
        return self.serial

    async def stream(self) -> AsyncIterator[bytes]:
        """The SSE stream of one phone: the latest event now, then each new one, and heartbeats."""
        self.listeners += 1
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            seen = 0
            while True:
                try:
                    seen = await asyncio.wait_for(self.next(seen), HEARTBEAT)
                except TimeoutError:
                    yield b": still here\n\n"
                    continue
                yield self.event
        finally:
            self.listeners -= 1
            self.idle_since = time.monotonic()

    async def first(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The room's standing as soon as the feed has read it once (None if it could not in ``timeout``)."""
        try:
            await asyncio.wait_for(self.fresh.wait(), timeout)
        except TimeoutError:
            return None
        return self.state

    async def _read(self, method: Callable[[str], Any]) -> Any:
        """A store read: at once in memory, in a worker thread for Redis (a round trip must not block the loop)."""
        if isinstance(self.store(), MemoryStore):
            return method(self.code)
        return await to_thread.run_sync(method, self.code)

    def _poll(self, code: str, stage: str) -> Poll:
        return self.store().poll(code, stage)

    async def _gone(self, err: RoomError) -> RoomError:
        """A room this feed read before and the store no longer knows: lost in the store's restart, or closed."""
        if self.seen_at is None:
            return err
        try:
            started = await self._read(lambda _: self.store().started_at())
        except RoomError:
            return err
        return gone(self.code, self.seen_at, started, time.time())

    async def watch(self) -> None:
        """Read the room's pulse every ``TICK`` s and publish what changed, until no phone listened for a while."""
        last: Pulse | None = None
        full_at = 0.0
        while self.listeners or time.monotonic() - self.idle_since < IDLE_SECONDS:
            try:
                pulse = await self._read(self.store().pulse)
                vote = asked(await self._read(functools.partial(self._poll, stage=pulse.stage)))
                self.seen_at = time.time()
                now = time.monotonic()
                moved = last is None or pulse.stage != last.stage
                runs_changed = last is not None and pulse.version != last.version
                if moved or (runs_changed and now - full_at >= FULL_EVERY) or self.state is None:
                    wall = await self._read(self.store().wall)
                    full_at, last = now, pulse
                    self.publish({**standing(wall), "vote": vote})
                elif self.state and "stage" in self.state and self.state.get("vote") != vote:
                    self.publish({**self.state, "vote": vote})
                elif (
                    last is not None
                    and self.state
                    and "stage" in self.state
                    and pulse.participants != last.participants
                    and now - full_at >= FULL_EVERY
                ):
                    full_at, last = now, Pulse(last.stage, pulse.participants, last.trained, last.version)
                    self.publish({**self.state, "joined": pulse.participants})
            except RoomError as err:
                if err.reason == "unknown":
                    err = await self._gone(err)
                self.publish({"error": str(err), "reason": err.reason})
                last = None
                if err.reason in ("unknown", "bad_code", "lost"):
                    return
            finally:
                self.fresh.set()
            await asyncio.sleep(TICK)


class Hub:
    """The feeds of this process, one per watched room, started on demand and ended when idle."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.feeds: dict[str, Feed] = {}

    def feed(self, code: str) -> Feed:
        """The running feed of room ``code`` (a normalized code), started if needed.

        Raises:
            RoomError: ``busy`` when ``MAX_FEEDS`` rooms are watched already.
        """
        feed = self.feeds.get(code)
        if feed is None or feed.task is None or feed.task.done():
            if feed is None and len(self.feeds) >= MAX_FEEDS:
                self._sweep()
                if len(self.feeds) >= MAX_FEEDS:
                    raise RoomError("busy", "This server follows too many rooms right now: try again shortly.")
            feed = feed or Feed(code, self.store)
            # A feed whose watch stopped (no phone listened for a while) holds what it read then: its next
            # reader waits for the restarted watch's first read instead of being answered from the past.
            feed.fresh = asyncio.Event()
            self.feeds[code] = feed
            feed.task = asyncio.get_running_loop().create_task(feed.watch())
            feed.task.add_done_callback(functools.partial(self._ended, code))
        return feed

    def _ended(self, code: str, _task: object = None) -> None:
        feed = self.feeds.get(code)
        if feed is not None and feed.task is not None and feed.task.done() and not feed.listeners:
            del self.feeds[code]

    def _sweep(self) -> None:
        for code in [c for c, f in self.feeds.items() if f.task is None or f.task.done()]:
            del self.feeds[code]
