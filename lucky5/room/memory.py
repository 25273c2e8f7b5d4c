"""``MemoryStore``: rooms in this process's memory, thread-safe; the default store.

It has the same methods and the same refusals as ``RedisStore`` (the tests run both through one suite).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from .codes import (
    EMPTY_ROOM_SECONDS,
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MAX_TOKENS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    TOKEN_SECONDS,
    busy,
    check_key,
    check_participant,
    check_token,
    joining,
    new_code,
    new_key,
    new_token,
    normalize_code,
    unknown_room,
    unknown_token,
    used_token,
)
from .limits import MAX_BUCKETS, Limit, bucket_name, slow_down, take
from .questions import question_for
from .seats import (
    JOIN_HOLD_SECONDS,
    MAX_HELD,
    check_capacity,
    first_run_kept,
    join_refusal,
    removed,
    seat_refusal,
)
from .stages import FIRST_STAGE, STAGES, check_stage, wrong_stage
from .summary import Summary, check_summary
from .votes import Poll, check_action, closed, no_vote, not_current, tally
from .wall import Pulse, Wall


@dataclass
class _Vote:
    """One stage's vote in a room (``votes.Poll`` is what is read of it)."""

    round: int = 0
    open: bool = False
    skipped: bool = False
    revealed: bool = False
    version: int = 0
    ballots: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] = field(default_factory=lambda: ({}, {}))


@dataclass
class _Room:
    key: str
    stage: str
    last_active: float
    capacity: int
    participants: set[str] = field(default_factory=set)  # joined: seated, or held (``seats``)
    seats: set[str] = field(default_factory=set)  # who trained
    held: dict[str, float] = field(default_factory=dict)  # joined, not trained: id -> when, oldest first
    removed: dict[str, int] = field(default_factory=dict)  # id -> seed, of the runs the presenter removed
    locked: bool = False
    runs: dict[str, Summary] = field(default_factory=dict)
    version: int = 0  # counts the changes of the stage, the runs and the doors (``Pulse``)
    votes: dict[str, _Vote] = field(default_factory=dict)  # by stage name

    def forget_holds(self, now: float) -> None:
        """Drop the joins held ``JOIN_HOLD_SECONDS`` without training, and the oldest beyond ``MAX_HELD``."""
        while self.held:
            oldest, since = next(iter(self.held.items()))
            if now - since < JOIN_HOLD_SECONDS and len(self.held) <= MAX_HELD:
                break
            del self.held[oldest]
            self.participants.discard(oldest)

    def hold(self, participant: str, now: float) -> None:
        """Hold a join (again: its time starts over) unless the participant is seated."""
        if participant not in self.seats:
            self.held.pop(participant, None)
            self.held[participant] = now
            self.participants.add(participant)
            self.forget_holds(now)

    def unseat(self, participant: str) -> None:
        self.seats.discard(participant)
        self.held.pop(participant, None)
        self.participants.discard(participant)


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
        self._started_at = time.time()
        # One-time tokens of presenter links: token -> (code, key, issued at); (None, None, used at) once used.
        self._tokens: dict[str, tuple[str | None, str | None, float]] = {}
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # name -> (tokens, at), LRU order

    def create(self) -> tuple[str, str]:
        """A new room at the first stage: ``(code, key)``. May close the room idle the longest."""
        key = new_key()
        with self._lock:
            now = self._clock()
            for code in [c for c, r in self._rooms.items() if self._expired(r, now)]:
                del self._rooms[code]
            while self._rooms and len(self._rooms) >= self._max_rooms:
                oldest = min(self._rooms, key=lambda c: self._rooms[c].last_active)
                if now - self._rooms[oldest].last_active < MIN_IDLE_TO_CLOSE_SECONDS:
                    raise busy(self._max_rooms)
                del self._rooms[oldest]
            code = new_code()
            while code in self._rooms:
                code = new_code()
            self._rooms[code] = _Room(key=key, stage=FIRST_STAGE, last_active=now, capacity=self._max_participants)
        return code, key

    def _expired(self, room: _Room, now: float) -> bool:
        """A room idle for its time to live: ``ttl``, or ``EMPTY_ROOM_SECONDS`` while nobody has trained."""
        return now - room.last_active >= (self._ttl if room.seats else min(self._ttl, EMPTY_ROOM_SECONDS))

    def _room(self, code: str) -> _Room:
        """The live room (call with the lock held); refreshes its activity time and forgets expired holds."""
        now = self._clock()
        room = self._rooms.get(code)
        if room is not None and self._expired(room, now):
            del self._rooms[code]
            room = None
        if room is None:
            raise unknown_room(code)
        room.last_active = now
        room.forget_holds(now)
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
            if previous is not None and previous in room.removed:
                raise removed()
            if previous is not None and previous in room.participants:
                participant = previous
            self._admit(room, participant)
        return participant

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one (in a stage that keeps
        first runs, ``Stage.keeps_first``, a different second run is refused: ``kept``)."""
        code, summary = normalize_code(code), check_summary(summary)
        participant = check_participant(participant)
        with self._lock:
            room = self._room(code)
            refusal = seat_refusal(
                is_removed=participant in room.removed,
                seated=participant in room.seats,
                held=participant in room.held,
                is_locked=room.locked,
                taken=len(room.seats),
                capacity=room.capacity,
            )
            if refusal is not None:
                raise refusal
            stage = STAGES[room.stage]
            why = stage.problem(summary)
            if why is not None:
                raise wrong_stage(stage, why)
            if stage.keeps_first and room.runs.get(participant, summary) != summary:
                raise first_run_kept()
            room.held.pop(participant, None)
            room.seats.add(participant)
            room.participants.add(participant)
            room.runs[participant] = summary
            room.version += 1

    def remove_run(self, code: str, participant: str, summary: Summary) -> bool:
        """Take the participant's run off the wall if it is still ``summary``; True if it was.

        For a run found false after it was shown (``lucky5.room.check``): a run sent since then stays. The
        participant loses their seat (a false run takes none). An unknown room or participant removes nothing.
        """
        code = normalize_code(code)
        with self._lock:
            room = self._rooms.get(code)
            if room is None or room.runs.get(participant) != summary:
                return False
            del room.runs[participant]
            room.unseat(participant)
            room.version += 1
            return True

    def pulse(self, code: str) -> Pulse:
        """The room's stage, counts and version, cheaply, without counting as activity."""
        code = normalize_code(code)
        with self._lock:
            room = self._rooms.get(code)
            if room is None or self._expired(room, self._clock()):
                raise unknown_room(code)
            return Pulse(room.stage, len(room.participants), len(room.runs), room.version)

    def wall(self, code: str) -> Wall:
        """The current stage, the number of participants and their runs (counts as activity)."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            return Wall(
                stage=room.stage,
                participants=len(room.participants),
                runs=tuple(room.runs.values()),
                seated=len(room.seats),
                capacity=room.capacity,
                locked=room.locked,
                removed=tuple(sorted(set(room.removed.values()))),
            )

    # --- the presenter's doors (``lucky5.room.seats``) -------------------------------------------------

    def lock(self, code: str, key: str, locked: bool) -> None:
        """Presenter only: close the room to new participants (``locked``), or open it again."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            if room.locked != bool(locked):
                room.locked = bool(locked)
                room.version += 1

    def set_capacity(self, code: str, key: str, capacity: int) -> None:
        """Presenter only: the room's seats, within the server's bound (seats taken stay taken).

        Raises:
            RoomError: ``bad_capacity`` outside [1, the store's ``max_participants``]; ``wrong_key``.
        """
        code, capacity = normalize_code(code), check_capacity(capacity, self._max_participants)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            if room.capacity != capacity:
                room.capacity = capacity
                room.version += 1

    def remove(self, code: str, key: str, seed: int) -> int:
        """Presenter only: take the runs of seed ``seed`` off the wall; their participants lose their seats and
        cannot send again (``removed``). Returns how many runs were removed (0: none has that seed now)."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            gone = [p for p, run in room.runs.items() if run.seed == seed]
            for participant in gone:
                del room.runs[participant]
                room.unseat(participant)
                room.removed[participant] = seed
            if gone:
                room.version += 1
            return len(gone)

    def _admit(self, room: _Room, participant: str) -> None:
        """A participant in the room (held again), or let in as a join would be (call with the lock held): a
        phone whose join ran out before it voted comes back."""
        known = participant in room.participants
        why = join_refusal(
            is_removed=participant in room.removed,
            known=known,
            is_locked=room.locked,
            taken=len(room.seats),
            capacity=room.capacity,
        )
        if why is not None:
            raise why
        room.hold(participant, self._clock())

    def limit(self, limit: Limit, who: str) -> None:
        """One action of ``who`` (a client address, or a room's participant) under ``limit``.

        Raises:
            RoomError: ``slow_down`` with the seconds to wait when the bucket is empty (nothing is taken).
        """
        name = bucket_name(limit, who)
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.pop(name, (limit.burst, now))
            left, wait = take(tokens, at, now, limit)
            self._buckets[name] = (left, now) if not wait else (tokens, at)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        if wait:
            raise slow_down(limit, wait)

    def verify_key(self, code: str, key: str) -> None:
        """RoomError ``wrong_key`` unless ``key`` drives room ``code`` (``unknown`` without the room); reads only."""
        code = normalize_code(code)
        with self._lock:
            check_key(key, self._room(code).key)

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them), closing the vote
        of the stage left, if open, and starting the entered stage's question afresh (``votes``)."""
        code = normalize_code(code)
        check_stage(stage)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            if stage != room.stage:
                left = room.votes.get(room.stage)
                if left is not None and left.open:  # the question of the stage left behind takes no more votes
                    left.open, left.version = False, left.version + 1
                if (entered := room.votes.get(stage)) is not None:
                    room.votes[stage] = _Vote(version=entered.version + 1)
                room.stage, room.runs = stage, {}
                room.version += 1

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            room.stage, room.runs = FIRST_STAGE, {}
            room.votes = {}
            room.version += 1

    def started_at(self) -> float:
        """When this store started (Unix seconds): rooms are in this process, so a restart loses them all."""
        return self._started_at

    def issue_token(self, code: str, key: str) -> str:
        """Presenter only: a one-time token that ``redeem_token`` exchanges for ``(code, key)`` once, within
        ``TOKEN_SECONDS``. At most ``MAX_TOKENS`` are kept (the oldest go first). Reads the room only."""
        self.verify_key(code, key)
        token = new_token()
        with self._lock:
            self._forget_tokens(MAX_TOKENS - 1)
            self._tokens[token] = (normalize_code(code), key, self._clock())
        return token

    def redeem_token(self, token: str) -> tuple[str, str]:
        """The ``(code, key)`` of a presenter link's token, once: the token is void afterwards.

        Raises:
            RoomError: ``used_token`` the second time, ``unknown_token`` for a token never issued or expired.
        """
        token = check_token(token)
        with self._lock:
            self._forget_tokens(MAX_TOKENS)
            code, key, _ = self._tokens.get(token, (None, None, 0.0))
            if token not in self._tokens:
                raise unknown_token()
            if code is None or key is None:
                raise used_token()
            self._tokens[token] = (None, None, self._clock())
            return code, key

    def _forget_tokens(self, keep: int) -> None:
        """Drop expired tokens, then the oldest until ``keep`` are left (call with the lock held)."""
        now = self._clock()
        for token in [t for t, (_, _, at) in self._tokens.items() if now - at >= TOKEN_SECONDS]:
            del self._tokens[token]
        while len(self._tokens) > keep:
            del self._tokens[next(iter(self._tokens))]

    # --- votes on the stages' questions (``lucky5.room.votes``) ---------------------------------------

    def vote(self, code: str, key: str, stage: str, action: str, round_: int = 1) -> None:
        """Presenter only: ``action`` on ``stage``'s vote, one of ``votes.VOTE_ACTIONS``.

        ``open`` opens round ``round_`` for the room's current stage (1 clears both rounds' votes, 2 asks
        again: it clears round 2 and keeps round 1); ``close`` stops taking votes; ``reveal`` stops taking
        votes and shows the counts; ``skip`` skips the question (no votes taken until it is opened again).

        Raises:
            RoomError: ``wrong_key``, ``bad_stage``, ``bad_round``; ``wrong_stage`` when opening a vote for a
                stage the room is not at; ``no_vote`` when closing, revealing or asking again before round 1.
        """
        code, name = normalize_code(code), check_stage(stage).name
        round_ = check_action(action, round_)
        with self._lock:
            room = self._room(code)
            check_key(key, room.key)
            if action == "open" and name != room.stage:
                raise not_current(STAGES[room.stage])
            vote = room.votes.setdefault(name, _Vote())
            if action in ("close", "reveal") or (action == "open" and round_ == 2):
                if vote.round == 0:
                    raise no_vote()
            if action == "open":
                for r in range(round_, 3):
                    vote.ballots[r - 1].clear()
                vote.round, vote.open, vote.skipped, vote.revealed = round_, True, False, False
            elif action == "skip":
                vote.open, vote.skipped, vote.revealed = False, True, False
            else:
                vote.open, vote.revealed = False, vote.revealed or action == "reveal"
            vote.version += 1

    def cast(self, code: str, participant: str, stage: str, choices: object) -> tuple[str, ...]:
        """Record (or change) the participant's vote in the open round of ``stage``; returns it as stored.

        Raises:
            RoomError: ``unknown``, ``unknown_participant``, ``bad_stage``, ``bad_vote`` (see
                ``Question.check``), ``wrong_stage`` (the room is at another stage), ``vote_closed``.
        """
        code, name = normalize_code(code), check_stage(stage).name
        participant = check_participant(participant)
        picked = question_for(name).check(choices)
        with self._lock:
            room = self._room(code)
            self._admit(room, participant)
            if name != room.stage:
                raise not_current(STAGES[room.stage])
            vote = room.votes.get(name)
            if vote is None or not vote.open:
                raise closed(vote is not None and vote.skipped, 0 if vote is None else vote.round)
            ballots = vote.ballots[vote.round - 1]
            if ballots.get(participant) != picked:
                ballots[participant] = picked
                vote.version += 1
            return picked

    def ballot(self, code: str, participant: str, stage: str) -> tuple[str, ...]:
        """The participant's vote in ``stage``'s current round, () if none (for a phone after a reload).

        A read, not activity (as ``pulse``)."""
        code, name = normalize_code(code), check_stage(stage).name
        with self._lock:
            vote = self._peek(code).votes.get(name)
            if vote is None or vote.round == 0 or not isinstance(participant, str):
                return ()
            return vote.ballots[vote.round - 1].get(participant, ())

    def poll(self, code: str, stage: str) -> Poll:
        """``stage``'s vote (``votes.Poll``): its state, how many voted, and the counts once revealed.

        A read, not activity (as ``pulse``): a wall may ask every second."""
        code, name = normalize_code(code), check_stage(stage).name
        question = question_for(name)
        with self._lock:
            vote = self._peek(code).votes.get(name) or _Vote()
            one, two = (list(b.values()) for b in vote.ballots)
            counts = (tally(question, one), tally(question, two)) if vote.revealed else None
            return Poll(
                name, vote.round, vote.open, vote.skipped, vote.revealed, (len(one), len(two)), counts, vote.version
            )

    def _peek(self, code: str) -> _Room:
        """The live room (call with the lock held), without counting as activity."""
        room = self._rooms.get(code)
        if room is None or self._expired(room, self._clock()):
            raise unknown_room(code)
        return room
