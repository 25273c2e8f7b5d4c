"""``RedisStore``: rooms in a Redis server, so that several server processes share them; and ``store_from_env``.

``store_from_env()`` chooses it when ``LUCKY5_REDIS_URL`` is set. Every change is one Lua script, so a crowd
joining at once can neither exceed ``MAX_PARTICIPANTS`` nor lose a join or a run. Values are JSON (never
pickle) and everything read back is parsed as untrusted (``Summary.from_json``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from . import redis_seats, redis_votes
from .codes import (
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    TOKEN_SECONDS,
    RoomError,
    busy,
    check_key,
    check_participant,
    check_token,
    full,
    joining,
    new_code,
    new_key,
    new_token,
    normalize_code,
    refuse,
    unknown_room,
    unknown_token,
    used_token,
)
from .limits import Limit, bucket_name, slow_down
from .memory import MemoryStore
from .questions import question_for
from .seats import REFUSALS, check_capacity
from .stages import FIRST_STAGE, STAGES, Stage, check_stage, wrong_stage
from .summary import Summary, check_summary
from .votes import ROUNDS, Poll, check_action, closed, no_vote, not_current
from .wall import Pulse, Wall

REDIS_URL_ENV = "LUCKY5_REDIS_URL"
REDIS_CONNECTIONS = 32  # per RedisStore (per server process); each call holds one for about a round trip

# Keys: lucky5:room:{code}:meta (hash: key, stage), :people (set of participant ids), :runs (hash:
# participant id -> Summary JSON), :poll and :votes (the stages' votes, see redis_votes), and lucky5:rooms
# (sorted set: code -> last activity, Redis TIME in seconds). Every room key expires ROOM_TTL_SECONDS after
# the room's last activity. Scripts build room keys from the code, so this needs one Redis server (or a
# primary), not Redis Cluster.
_LUA_HEAD = """
local prefix = 'lucky5:room:'
local index = KEYS[1]
local t = redis.call('TIME')
local now = string.format('%d.%06d', t[1], t[2])
"""
# touch: every key of the room lives ``ttl`` more seconds (``EMPTY_ROOM_SECONDS`` while nobody has trained).
_LUA_TOUCH = (
    "local PARTS = {"
    + ", ".join(f"'{name}'" for name in redis_seats.ROOM_PARTS)
    + """}
local function touch(code, ttl)
  local keep = ttl
  if redis.call('SCARD', prefix .. code .. ':seats') == 0 then keep = math.min(ttl, EMPTY) end
  for _, name in ipairs(PARTS) do redis.call('EXPIRE', prefix .. code .. ':' .. name, keep) end
  redis.call('ZADD', index, now, code)
  redis.call('EXPIRE', index, ttl)
end
local function close(code)
  for _, name in ipairs(PARTS) do redis.call('DEL', prefix .. code .. ':' .. name) end
  redis.call('ZREM', index, code)
end
"""
)
_LUA_PRELUDE = _LUA_HEAD + redis_seats.LUA_SEATS + _LUA_TOUCH

# ARGV: code, key, stage, ttl, max_rooms, min_idle, capacity. Returns 1, 0 if the code is taken, -1 if every
# room is in use. At the cap, rooms whose keys expired leave the index first (an empty room expires soon).
_LUA_CREATE = (
    _LUA_PRELUDE
    + """
local code, ttl, max_rooms = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(t[1]) - ttl)
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 1 then return 0 end
if redis.call('ZCARD', index) >= max_rooms then
  for _, c in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if redis.call('EXISTS', prefix .. c .. ':meta') == 0 then close(c) end
  end
end
while redis.call('ZCARD', index) >= max_rooms do
  local oldest = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  if tonumber(now) - tonumber(oldest[2]) < tonumber(ARGV[6]) then return -1 end
  close(oldest[1])
end
redis.call('HSET', meta, 'key', ARGV[2], 'stage', ARGV[3], 'cap', ARGV[7], 'locked', '0')
touch(code, ttl)
return 1
"""
)

_LUA_JOIN = _LUA_PRELUDE + redis_seats.LUA_JOIN

_LUA_SUBMIT = _LUA_PRELUDE + redis_seats.LUA_SUBMIT
_LUA_REMOVE_SEED = _LUA_PRELUDE + redis_seats.LUA_REMOVE_SEED

# ARGV: code, ttl. Returns {stage, participants, seats, capacity, locked, removed seeds (space-separated),
# runs...} or {} for an unknown room.
_LUA_WALL = (
    _LUA_PRELUDE
    + """
local code, ttl = ARGV[1], tonumber(ARGV[2])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return {} end
touch(code, ttl)
forget_holds(code)
local out = {redis.call('HGET', meta, 'stage') or '', redis.call('SCARD', prefix .. code .. ':people'),
  redis.call('SCARD', prefix .. code .. ':seats'), capacity(code), redis.call('HGET', meta, 'locked') or '0',
  table.concat(redis.call('HVALS', prefix .. code .. ':removed'), ' ')}
for _, v in ipairs(redis.call('HVALS', prefix .. code .. ':runs')) do out[#out + 1] = v end
return out
"""
)

# ARGV: code, key, ttl, stage, 'reset' or 'stage'. The key was already compared in constant time;
# comparing it again here makes the check and the change one atomic step.
_LUA_PRESENT = (
    _LUA_PRELUDE
    + """
local code, ttl, stage = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
if redis.call('HGET', meta, 'key') ~= ARGV[2] then return 'key' end
local field = ({locked = 'locked', cap = 'cap'})[ARGV[5]]
local left = redis.call('HGET', meta, 'stage')
if field then
  if redis.call('HGET', meta, field) ~= ARGV[4] then
    redis.call('HSET', meta, field, ARGV[4])
    redis.call('HINCRBY', meta, 'version', 1)
  end
elseif ARGV[5] == 'reset' or left ~= stage then
  -- the vote of the stage left behind takes no more votes ("r o s v": o is the third character)
  local poll = prefix .. code .. ':poll'
  local st = left and redis.call('HGET', poll, left .. ':state')
  if st and string.sub(st, 3, 3) == '1' then
    redis.call('HSET', poll, left .. ':state', string.sub(st, 1, 2) .. '0' .. string.sub(st, 4))
    redis.call('HINCRBY', poll, left .. ':v', 1)
  end
  -- the stage entered starts its question afresh (``votes``): its state, counts and votes go, its
  -- version grows (a page compares versions); a hash of one room's votes is bounded by its seats
  if ARGV[5] ~= 'reset' and left ~= stage then
    local head, votes = stage .. ':', prefix .. code .. ':votes'
    for _, h in ipairs({poll, votes}) do
      for _, f in ipairs(redis.call('HKEYS', h)) do
        if string.sub(f, 1, #head) == head and f ~= head .. 'v' then redis.call('HDEL', h, f) end
      end
    end
    redis.call('HINCRBY', poll, head .. 'v', 1)
  end
  redis.call('HSET', meta, 'stage', stage)
  redis.call('DEL', prefix .. code .. ':runs')
  redis.call('HINCRBY', meta, 'version', 1)
end
if ARGV[5] == 'reset' then redis.call('DEL', prefix .. code .. ':poll', prefix .. code .. ':votes') end
touch(code, ttl)
return 'ok'
"""
)

# ARGV: code, participant, the run's JSON. Removes the participant's run only if it is still that run, and their
# seat (a false run takes none). Not activity: nothing is touched. Returns 1 if removed, else 0.
_LUA_REMOVE = """
local prefix = 'lucky5:room:' .. ARGV[1]
if redis.call('HGET', prefix .. ':runs', ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', prefix .. ':runs', ARGV[2])
redis.call('SREM', prefix .. ':seats', ARGV[2])
redis.call('SREM', prefix .. ':people', ARGV[2])
redis.call('HINCRBY', prefix .. ':meta', 'version', 1)
return 1
"""

# KEYS: the token's key. Returns the stored "code key" once, then 'used' (kept until the token would have expired).
_LUA_REDEEM = """
local v = redis.call('GET', KEYS[1])
if not v or v == 'used' then return v end
redis.call('SET', KEYS[1], 'used', 'KEEPTTL')
return v
"""

_LUA_CAST = _LUA_PRELUDE + redis_votes.LUA_VOTE_STATE + redis_votes.LUA_CAST
_LUA_VOTE = _LUA_PRELUDE + redis_votes.LUA_VOTE_STATE + redis_votes.LUA_VOTE

_INDEX_KEY = "lucky5:rooms"


def _meta_key(code: str) -> str:
    return f"lucky5:room:{code}:meta"


class RedisStore:
    """Rooms in a Redis server, shared by every process that uses the same URL.

    Each method is one round trip (two for the presenter's methods: the key is fetched and
    compared here in constant time) and each change is one Lua script, atomic in Redis. Scripts
    use Redis's clock, so replicas on different machines agree on idleness. Expiry is Redis's:
    every room key's TTL is renewed on activity. Redis errors become RoomError ``unavailable``.

    Raises:
        RoomError: ``unavailable`` if ``url`` is not a redis:// (rediss://, unix://) URL.
    """

    def __init__(
        self,
        url: str,
        *,
        max_rooms: int | None = None,
        max_participants: int | None = None,
        ttl: int | None = None,
    ) -> None:
        import redis  # here, so that a MemoryStore does not import the Redis client

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)
        try:
            # A blocking pool: when a crowd outnumbers the connections, calls wait for a free one
            # (up to `timeout` seconds) instead of failing as the default pool does past its cap.
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=REDIS_CONNECTIONS, timeout=10, socket_timeout=10, socket_connect_timeout=5
            )
            self._redis = redis.Redis.from_pool(pool)
        except ValueError:
            raise RoomError("unavailable", f"{REDIS_URL_ENV} must be a redis:// URL.") from None
        self._max_rooms = MAX_ROOMS if max_rooms is None else max_rooms
        self._max_participants = MAX_PARTICIPANTS if max_participants is None else max_participants
        self._ttl = int(ROOM_TTL_SECONDS if ttl is None else ttl)
        r = self._redis
        self._create = r.register_script(_LUA_CREATE)
        self._join = r.register_script(_LUA_JOIN)
        self._submit = r.register_script(_LUA_SUBMIT)
        self._wall = r.register_script(_LUA_WALL)
        self._present = r.register_script(_LUA_PRESENT)
        self._remove = r.register_script(_LUA_REMOVE)
        self._redeem = r.register_script(_LUA_REDEEM)
        self._remove_seed = r.register_script(_LUA_REMOVE_SEED)
        self._limit = r.register_script(redis_seats.LUA_LIMIT)
        self._cast = r.register_script(_LUA_CAST)
        self._vote = r.register_script(_LUA_VOTE)
        # Parsed runs by their JSON: a wall refreshing every few seconds re-reads the same runs.
        self._parsed: dict[bytes, Summary] = {}

    def _call(self, script: Any, *args: Any) -> Any:
        try:
            return script(keys=[_INDEX_KEY], args=list(args))
        except self._errors as err:
            raise RoomError(
                "unavailable", f"The shared room store is not answering ({type(err).__name__}); try again shortly."
            ) from None

    def create(self) -> tuple[str, str]:
        """A new room at the first stage: ``(code, key)``. May close the room idle the longest."""
        key = new_key()
        for _ in range(100):  # a taken code is drawn about once in 1e9 / MAX_ROOMS tries
            code = new_code()
            made = self._call(
                self._create,
                code,
                key,
                FIRST_STAGE,
                self._ttl,
                self._max_rooms,
                MIN_IDLE_TO_CLOSE_SECONDS,
                self._max_participants,
            )
            if made == -1:
                raise busy(self._max_rooms)
            if made == 1:
                return code, key
        refuse("unavailable", "No free room code was found; try again.")

    def join(self, code: str, again: str | None = None, adopt: bool = False) -> str:
        """Join the room, as ``MemoryStore.join`` does (the same ids, the same counting), atomically in Redis."""
        code, previous, participant = joining(code, again, adopt)
        out = self._text(self._call(self._join, code, participant, "", self._ttl, previous or ""))
        if out == "again":
            return str(previous)
        if out != "new":
            self._refuse(code, out)
        return participant

    def _refuse(self, code: str, out: str) -> None:
        """Raise the refusal a seat script named: ``unknown``, ``removed``, ``locked``, ``full:<capacity>``."""
        if out == "unknown":
            raise unknown_room(code)
        if out in REFUSALS:
            raise REFUSALS[out]()
        if out.startswith("full:"):
            raise full(int(out[5:]) if out[5:].isdigit() else self._max_participants)

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one (in a stage that keeps
        first runs, ``Stage.keeps_first``, a different second run is refused: ``kept``)."""
        code, summary = normalize_code(code), check_summary(summary)
        participant = check_participant(participant)
        fits = [s.name for s in STAGES.values() if s.problem(summary) is None]
        keeps = " ".join(s.name for s in STAGES.values() if s.keeps_first)
        out = self._text(self._call(self._submit, code, participant, summary.to_json(), self._ttl, keeps, *fits))
        if out == "ok":
            return
        self._refuse(code, out)
        current = self._stage(out.removeprefix("stage:"))
        raise wrong_stage(current, current.problem(summary) or "this run is for another stage")

    def remove_run(self, code: str, participant: str, summary: Summary) -> bool:
        """Take the participant's run off the wall if it is still ``summary``; True if it was.

        For a run found false after it was shown (``lucky5.room.check``): a run sent since then stays.
        """
        code = normalize_code(code)
        return bool(self._call(self._remove, code, participant, summary.to_json()))

    def pulse(self, code: str) -> Pulse:
        """The room's stage, counts and version: one round trip of plain reads, not counted as activity."""
        code = normalize_code(code)
        prefix = f"lucky5:room:{code}"
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(f"{prefix}:meta", "stage", "version")
                pipe.scard(f"{prefix}:people")
                pipe.hlen(f"{prefix}:runs")
                (stage, version), people, runs = pipe.execute()
        except self._errors as err:
            raise RoomError(
                "unavailable", f"The shared room store is not answering ({type(err).__name__}); try again shortly."
            ) from None
        if stage is None:
            raise unknown_room(code)
        name = self._stage(stage.decode("utf-8", "replace") if isinstance(stage, bytes) else "").name
        try:
            count = int(version or 0)
        except ValueError:
            refuse("unavailable", "The shared room store holds a room that does not parse.")
        return Pulse(name, int(people), int(runs), count)

    def wall(self, code: str) -> Wall:
        """The current stage, the number of participants and their runs (counts as activity)."""
        code = normalize_code(code)
        out = self._call(self._wall, code, self._ttl)
        if not out:
            raise unknown_room(code)
        stage = self._stage(out[0].decode("utf-8", "replace") if isinstance(out[0], bytes) else "")
        if len(out) < 6 or not all(isinstance(n, int) for n in out[1:4]):
            refuse("unavailable", "The shared room store holds a room that does not parse.")
        removed = sorted({int(s) for s in self._text(out[5]).split() if s.isdigit()})
        runs, invalid = [], 0
        parsed = self._parsed
        if len(parsed) > 4 * self._max_participants:
            parsed.clear()
        for raw in out[6:]:
            summary = parsed.get(raw) if isinstance(raw, bytes) else None
            if summary is None:
                try:
                    summary = Summary.from_json(raw)
                except RoomError:
                    invalid += 1
                    continue
                parsed[raw] = summary
            runs.append(summary)
        return Wall(
            stage=stage.name,
            participants=out[1],
            runs=tuple(runs),
            invalid=invalid,
            seated=out[2],
            capacity=out[3],
            locked=out[4] == b"1",
            removed=tuple(removed),
        )

    def _stage(self, name: str) -> Stage:
        if name not in STAGES:
            refuse("unavailable", "The shared room store holds a room that does not parse.")
        return STAGES[name]

    def verify_key(self, code: str, key: str) -> None:
        """RoomError ``wrong_key`` unless ``key`` drives room ``code`` (``unknown`` without the room).

        One read (HGET): a page that checks a kept key never writes, so it cannot undo a stage another
        presenter's page has just set."""
        code = normalize_code(code)
        try:
            stored = self._redis.hget(_meta_key(code), "key")
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        if stored is None:
            raise unknown_room(code)
        if not isinstance(stored, bytes):
            refuse("unavailable", "The shared room store holds a room that does not parse.")
        check_key(key, stored.decode("utf-8", "replace"))

    def lock(self, code: str, key: str, locked: bool) -> None:
        """Presenter only: close the room to new participants (``locked``), or open it again."""
        self._presenter(normalize_code(code), key, "1" if locked else "0", "locked")

    def set_capacity(self, code: str, key: str, capacity: int) -> None:
        """Presenter only: the room's seats, within the server's bound, as ``MemoryStore.set_capacity``."""
        capacity = check_capacity(capacity, self._max_participants)
        self._presenter(normalize_code(code), key, str(capacity), "cap")

    def remove(self, code: str, key: str, seed: int) -> int:
        """Presenter only: take the runs of seed ``seed`` off the wall, as ``MemoryStore.remove`` does (the runs
        are read first, then removed in one script if still there)."""
        code = normalize_code(code)
        self.verify_key(code, key)
        try:
            runs = self._redis.hgetall(f"lucky5:room:{code}:runs")
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        ids = []
        for participant, raw in runs.items():
            try:
                if Summary.from_json(raw).seed == seed:
                    ids.append(participant)
            except RoomError:
                continue  # a run that does not parse is not on the wall
        out = self._call(self._remove_seed, code, key, self._ttl, int(seed), *ids)
        if self._text(out) == "unknown":
            raise unknown_room(code)
        if self._text(out) == "key":
            check_key(None, "")
        return int(out)

    def limit(self, limit: Limit, who: str) -> None:
        """One action of ``who`` under ``limit``, as ``MemoryStore.limit``: one script, Redis's clock.

        Raises:
            RoomError: ``slow_down`` (nothing taken), ``unavailable``.
        """
        ms = max(1, int(limit.idle_seconds * 1000) + 1)
        try:
            out = self._limit(keys=[f"lucky5:limit:{bucket_name(limit, who)}"], args=[limit.burst, limit.rate, ms])
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        try:
            wait = float(self._text(out))
        except ValueError:
            wait = 0.0
        if wait > 0:
            raise slow_down(limit, wait)

    def _presenter(self, code: str, key: str, stage: str, action: str) -> None:
        self.verify_key(code, key)
        out = self._call(self._present, code, key, self._ttl, stage, action)
        if out == b"unknown":
            raise unknown_room(code)
        if out == b"key":
            check_key(None, "")

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them) and closing the vote
        of the stage left, if open."""
        code = normalize_code(code)
        check_stage(stage)
        self._presenter(code, key, stage, "stage")

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        self._presenter(normalize_code(code), key, FIRST_STAGE, "reset")

    def started_at(self) -> float:
        """When the Redis server last started (Unix seconds, by its clock, rounded up to the next whole second):
        one round trip (``INFO server``).

        A Redis that keeps nothing on disk (``--save '' --appendonly no``) starts empty: rooms seen before then
        were lost in the restart (``codes.gone``)."""
        try:
            info = self._redis.info("server")
            seconds, _ = self._redis.time()
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        uptime = info.get("uptime_in_seconds") if isinstance(info, dict) else None
        if not isinstance(uptime, int):
            refuse("unavailable", "The shared room store did not say when it started.")
        # Redis counts its uptime in whole seconds of its clock (now's and its start's, both truncated), so
        # now - uptime can fall up to a second *before* it really started: a room seen in that second was
        # called unknown, not lost. The whole second after the start's is the earliest the start can be said
        # to be past; it is never before the real start.
        return float(seconds - uptime + 1)

    def issue_token(self, code: str, key: str) -> str:
        """Presenter only: a one-time token that ``redeem_token`` exchanges for ``(code, key)`` once, within
        ``TOKEN_SECONDS`` (Redis expires it). Reads the room only."""
        code = normalize_code(code)
        self.verify_key(code, key)
        token = new_token()
        try:
            self._redis.set(f"lucky5:token:{token}", f"{code} {key}", ex=TOKEN_SECONDS)
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        return token

    def redeem_token(self, token: str) -> tuple[str, str]:
        """The ``(code, key)`` of a presenter link's token, once, atomically (one script): the token is void after.

        Raises:
            RoomError: ``used_token`` the second time, ``unknown_token`` for a token never issued or expired.
        """
        token = check_token(token)
        try:
            out = self._redeem(keys=[f"lucky5:token:{token}"], args=[])
        except self._errors:
            refuse("unavailable", "The shared room store is not answering; try again shortly.")
        if out is None:
            raise unknown_token()
        if out == b"used":
            raise used_token()
        code, _, key = out.decode("utf-8", "replace").partition(" ") if isinstance(out, bytes) else ("", "", "")
        return normalize_code(code), key

    def close(self) -> None:
        """Close the connections to Redis (the rooms stay)."""
        self._redis.close()

    # --- votes on the stages' questions (``lucky5.room.votes``) ---------------------------------------

    def vote(self, code: str, key: str, stage: str, action: str, round_: int = 1) -> None:
        """Presenter only: ``action`` on ``stage``'s vote, as ``MemoryStore.vote`` does, atomically in Redis."""
        code, name = normalize_code(code), check_stage(stage).name
        round_ = check_action(action, round_)
        self.verify_key(code, key)
        out = self._text(self._call(self._vote, code, key, self._ttl, name, action, round_))
        if out == "unknown":
            raise unknown_room(code)
        if out == "key":
            check_key(None, "")
        if out == "none":
            raise no_vote()
        if out.startswith("stage:"):
            raise not_current(self._stage(out.removeprefix("stage:")))

    def cast(self, code: str, participant: str, stage: str, choices: object) -> tuple[str, ...]:
        """Record (or change) the participant's vote, as ``MemoryStore.cast`` does, in one script."""
        code, name = normalize_code(code), check_stage(stage).name
        participant = check_participant(participant)
        picked = question_for(name).check(choices)
        out = self._text(self._call(self._cast, code, participant, name, self._ttl, " ".join(picked), *picked))
        if out == "ok":
            return picked
        if out in ("unknown", "removed", "locked") or out.startswith("full:"):
            self._refuse(code, out)
        if out.startswith("stage:"):
            raise not_current(self._stage(out.removeprefix("stage:")))
        _, round_, skipped = (out.split(":") + ["", "", ""])[:3]
        raise closed(skipped == "1", int(round_) if round_ in ("0", "1", "2") else 1)

    def _read(self, code: str, reads: Any) -> list[Any]:
        """``reads(pipe)`` after checking that the room exists: one round trip of plain reads, not activity."""
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(_meta_key(code))
                reads(pipe)
                exists, *out = pipe.execute()
        except self._errors as err:
            raise RoomError(
                "unavailable", f"The shared room store is not answering ({type(err).__name__}); try again shortly."
            ) from None
        if not exists:
            raise unknown_room(code)
        return out

    def ballot(self, code: str, participant: str, stage: str) -> tuple[str, ...]:
        """The participant's vote in ``stage``'s current round, () if none (for a phone after a reload)."""
        code, name = normalize_code(code), check_stage(stage).name
        if not isinstance(participant, str) or ":" in participant:
            return ()
        prefix = f"lucky5:room:{code}"
        state, rounds = self._read(
            code,
            lambda pipe: (
                pipe.hget(f"{prefix}:poll", f"{name}:state"),
                pipe.hmget(f"{prefix}:votes", [f"{name}:{r}:{participant}" for r in ROUNDS]),
            ),
        )
        round_ = redis_votes.parse_state(state)[0]
        raw = rounds[round_ - 1] if round_ else None
        if raw is None:
            return ()
        try:
            return question_for(name).check(self._text(raw).split())
        except RoomError:
            refuse("unavailable", "The shared room store holds a vote that does not parse.")

    def poll(self, code: str, stage: str) -> Poll:
        """``stage``'s vote (``votes.Poll``), as ``MemoryStore.poll`` reads it: one round trip, not activity."""
        code, name = normalize_code(code), check_stage(stage).name
        ids = question_for(name).ids
        fields = [f"{name}:state", f"{name}:v"] + [f"{name}:{r}:n" for r in ROUNDS]
        fields += [f"{name}:{r}:c:{i}" for r in ROUNDS for i in ids]
        (values,) = self._read(code, lambda pipe: pipe.hmget(f"lucky5:room:{code}:poll", fields))
        round_, is_open, skipped, revealed = redis_votes.parse_state(values[0])
        numbers = [redis_votes.parse_count(v) for v in values[1:]]
        version, voted, per = numbers[0], (numbers[1], numbers[2]), numbers[3:]
        n = len(ids)
        counts = (tuple(per[:n]), tuple(per[n:])) if revealed else None
        return Poll(name, round_, is_open, skipped, revealed, voted, counts, version)

    @staticmethod
    def _text(out: Any) -> str:
        return out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)


def store_from_env(environ: Mapping[str, str] | None = None) -> MemoryStore | RedisStore:
    """A RedisStore on ``$LUCKY5_REDIS_URL`` when it is set (and not blank), else a MemoryStore."""
    env = os.environ if environ is None else environ
    url = env.get(REDIS_URL_ENV, "").strip()
    return RedisStore(url) if url else MemoryStore()


_shared: list[MemoryStore | RedisStore] = []
_shared_lock = threading.Lock()


def shared_store() -> MemoryStore | RedisStore:
    """This process's one store (``store_from_env``, made at the first call): the page's sessions and the
    light phone's routes, which run outside any session, must reach the same rooms.

    Raises:
        RoomError: ``unavailable`` when ``LUCKY5_REDIS_URL`` is not a redis:// URL (and again at the next call).
    """
    if not _shared:
        with _shared_lock:
            if not _shared:
                _shared.append(store_from_env())
    return _shared[0]
