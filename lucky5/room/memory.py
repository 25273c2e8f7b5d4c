"""``MemoryStore``: rooms in this process's memory, thread-safe; the default store.

It has the same methods and the same refusals as ``RedisStore`` (the tests run both through one suite).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .codes import (
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    busy,
    check_key,
    check_participant,
    full,
    joining,
    new_code,
    new_key,
    normalize_code,
    unknown_room,
)
from .stages import FIRST_STAGE, STAGES, check_stage, wrong_stage
from .summary import Summary, check_summary
from .wall import Pulse, Wall


@dataclass
class _Room:
    key: str
    stage: str
    last_active: float
    participants: set[str] = field(default_factory=set)
    runs: dict[str, Summary] = field(default_factory=dict)
    version: int = 0  # counts the changes of the stage and of the runs (``Pulse``)


class MemoryStore:
    """Rooms in this process's memory, behind one lock (every method is thread-safe).

    Expiry is lazy: a room idle for ``ttl`` seconds is removed when it is next looked up, and
    all expired rooms are removed when a room is created. ``clock`` (seconds, monotonic) is
    injectable for tests; the caps default to the module's constants at construction time.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_rooms: int | None = None,
        max_participants: int | None = None,
        ttl: float | None = None,
    ) -> None:
        self._clock = clock
        self._max_rooms = MAX_ROOMS if max_rooms is None else max_rooms
        self._max_participants = MAX_PARTICIPANTS if max_participants is None else max_participants
        self._ttl = ROOM_TTL_SECONDS if ttl is None else ttl
        self._lock = threading.Lock()
        self._rooms: dict[str, _Room] = {}

    def create(self) -> tuple[str, str]:
        """A new room at the first stage: ``(code, key)``. May close the room idle the longest."""
        key = new_key()
        with self._lock:
            now = self._clock()
            for code in [c for c, r in self._rooms.items() if now - r.last_active >= self._ttl]:
                del self._rooms[code]
            while self._rooms and len(self._rooms) >= self._max_rooms:
                oldest = min(self._rooms, key=lambda c: self._rooms[c].last_active)
                if now - self._rooms[oldest].last_active < MIN_IDLE_TO_CLOSE_SECONDS:
                    raise busy(self._max_rooms)
                del self._rooms[oldest]
            code = new_code()
            while code in self._rooms:
                code = new_code()
            self._rooms[code] = _Room(key=key, stage=FIRST_STAGE, last_active=now)
        return code, key

    def _room(self, code: str) -> _Room:
        """The live room (call with the lock held); refreshes its activity time."""
        now = self._clock()
        room = self._rooms.get(code)
        if room is not None and now - room.last_active >= self._ttl:
            del self._rooms[code]
            room = None
        if room is None:
            raise unknown_room(code)
        room.last_active = now
        return room

    def join(self, code: str, again: str | None = None, adopt: bool = False) -> str:
        """Join the room; returns this participant's id (keep it secret: it submits their runs).

        ``again`` is the id this phone held before (after a reload): while it is still in the room it is
        returned, counted once, with its run kept; anything else joins afresh. With ``adopt``, a well-formed
        ``again`` that is not in the room becomes this participant's id (a phone that drew its own id, so
        that retrying a join whose answer was lost never counts it twice).
        """
        code, previous, participant = joining(code, again, adopt)
        with self._lock:
            room = self._room(code)
            if previous is not None and previous in room.participants:
                return previous
            if len(room.participants) >= self._max_participants:
                raise full(self._max_participants)
            room.participants.add(participant)
        return participant

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one."""
        code, summary = normalize_code(code), check_summary(summary)
        participant = check_participant(participant)
        with self._lock:
            room = self._room(code)
            if participant not in room.participants:
                check_participant(None)
            stage = STAGES[room.stage]
            why = stage.problem(summary)
            if why is not None:
                raise wrong_stage(stage, why)
            room.runs[participant] = summary
            room.version += 1

    def remove_run(self, code: str, participant: str, summary: Summary) -> bool:
        """Take the participant's run off the wall if it is still ``summary``; True if it was.

        For a run found false after it was shown (``lucky5.room.check``): a run sent since then stays.
        An unknown room or participant removes nothing (False).
        """
        code = normalize_code(code)
        with self._lock:
            room = self._rooms.get(code)
            if room is None or room.runs.get(participant) != summary:
                return False
            del room.runs[participant]
            room.version += 1
            return True

    def pulse(self, code: str) -> Pulse:
        """The room's stage, counts and version, cheaply, without counting as activity."""
        code = normalize_code(code)
        with self._lock:
            room = self._rooms.get(code)
            if room is None or self._clock() - room.last_active >= self._ttl:
                raise unknown_room(code)
            return Pulse(room.stage, len(room.participants), len(room.runs), room.version)

    def wall(self, code: str) -> Wall:
        """The current stage, the number of participants and their runs (counts as activity)."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            return Wall(stage=room.stage, participants=len(room.participants), runs=tuple(room.runs.values()))

    def verify_key(self, code: str, key: str) -> None:
        """RoomError ``wrong_key`` unless ``key`` drives room ``code`` (``unknown`` without the room); reads only."""
        code = normalize_code(code)
        with self._lock:
            check_key(key, self._room(code).key)

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them)."""
        code = normalize_code(code)
        check_stage(stage)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            if stage != room.stage:
                room.stage, room.runs = stage, {}
                room.version += 1

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            room.stage, room.runs = FIRST_STAGE, {}
            room.version += 1
