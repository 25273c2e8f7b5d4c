"""The server's check of the runs phones trained themselves: replayed in the background, batched.

A light phone trains in its browser and sends its ``Summary``; the wall counts it at once. ``Checker`` then
replays it (``lucky5.room.replay``: ``train_many``, up to ``BATCH`` runs of one stage at a time) and takes a
run whose numbers are not its replay's off the wall (``remove_run``: only if it is still that participant's
run). The phone's answer never waits for it.

The replays run in a process of their own (``lucky5.room.check.main``, started at the first run, at a lower
priority): in a thread of the server they would hold its interpreter while a hall of phones waits for
answers, and their records would count in the server's memory. One thread here feeds it and applies its
verdicts; if the process cannot run, the thread replays itself.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lucky5
from lucky5.room import STAGES, MemoryStore, RedisStore, RoomError, Summary, mismatch, replay

WORKER = [sys.executable, "-c", "from lucky5.room.check import main; main()"]
ROOT = Path(lucky5.__file__).resolve().parent.parent  # where `import lucky5` finds this checkout

BATCH = 64  # jobs taken at once; replay trains them in train_many batches of lucky5.room.check.BATCH
MAX_PENDING = 20_000  # jobs waiting; beyond, new ones are not checked (and counted as such)

Store = Callable[[], MemoryStore | RedisStore]


@dataclass(frozen=True)
class Job:
    code: str
    participant: str
    stage: str
    summary: Summary


class Checker:
    """Replays reported runs in one background thread (started at the first job) and drops false ones."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: deque[Job] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.received = self.checked = self.dropped = self.skipped = 0
        self.busy = False
        self.last_done = 0.0  # time.time() when the last job was checked
        self._worker: subprocess.Popen[str] | None = None

    def add(self, code: str, participant: str, summary: Summary, stage: str) -> None:
        """Check this run soon (it is on the wall already)."""
        with self._wake:
            self.received += 1
            if len(self._jobs) >= MAX_PENDING:
                self.skipped += 1
                return
            self._jobs.append(Job(code, participant, stage, summary))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="lucky5-checker", daemon=True)
                self._thread.start()
            self._wake.notify()

    def stats(self) -> dict[str, float | int]:
        """Counts of this process: runs received, checked, dropped as false, skipped, and still pending."""
        with self._wake:
            pending = len(self._jobs) + (1 if self.busy else 0)
        return {
            "received": self.received,
            "checked": self.checked,
            "dropped": self.dropped,
            "skipped": self.skipped,
            "pending": pending,
            "last_done": self.last_done,
        }

    def _take(self) -> list[Job]:
        """Up to ``BATCH`` waiting jobs of one stage (the oldest job's), oldest first."""
        with self._wake:
            while not self._jobs:
                self.busy = False
                self._wake.wait()
            self.busy = True
            stage = self._jobs[0].stage
            taken = [j for j in self._jobs if j.stage == stage][:BATCH]
            for job in taken:
                self._jobs.remove(job)
            return taken

    def _verdicts(self, jobs: list[Job]) -> list[str | None]:
        """Why each job's run is false (None: it is its replay), from the checker process if it runs."""
        line = json.dumps({"stage": jobs[0].stage, "runs": [j.summary.to_json().decode() for j in jobs]})
        try:
            if self._worker is None or self._worker.poll() is not None:
                self._worker = subprocess.Popen(
                    WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, cwd=ROOT
                )
                atexit.register(self._worker.kill)
            assert self._worker.stdin is not None and self._worker.stdout is not None
            self._worker.stdin.write(line + "\n")
            self._worker.stdin.flush()
            verdicts = json.loads(self._worker.stdout.readline())["verdicts"]
            if isinstance(verdicts, list) and len(verdicts) == len(jobs):
                return verdicts
        except (OSError, ValueError, KeyError, TypeError):
            pass
        try:  # no checker process: replay here
            replays = replay(STAGES[jobs[0].stage], [j.summary for j in jobs])
        except (RoomError, ValueError):
            return ["settings no stage offers"] * len(jobs)  # submit refused such runs already
        return [mismatch(j.summary, r) for j, r in zip(jobs, replays, strict=True)]

    def _work(self) -> None:
        while True:
            jobs = self._take()
            for job, why in zip(jobs, self._verdicts(jobs), strict=True):
                if why is not None:
                    try:
                        self.dropped += self.store().remove_run(job.code, job.participant, job.summary)
                    except RoomError:
                        pass  # the room closed, or the store is away: nothing to take off now
            with self._wake:
                self.checked += len(jobs)
                self.last_done = time.time()
