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

from .codes import (
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    RoomError,
    busy,
    check_key,
    check_participant,
    full,
    joining,
    new_code,
    new_key,
    normalize_code,
    refuse,
    unknown_room,
)
from .memory import MemoryStore
from .stages import FIRST_STAGE, STAGES, Stage, check_stage, wrong_stage
from .summary import Summary, check_summary
from .wall import Pulse, Wall

REDIS_URL_ENV = "LUCKY5_REDIS_URL"
REDIS_CONNECTIONS = 32  # per RedisStore (per server process); each call holds one for about a round trip

# Keys: lucky5:room:{code}:meta (hash: key, stage), :people (set of participant ids), :runs (hash:
# participant id -> Summary JSON), and lucky5:rooms (sorted set: code -> last activity, Redis TIME
# in seconds). Every room key expires ROOM_TTL_SECONDS after the room's last activity. Scripts
# build room keys from the code, so this needs one Redis server (or a primary), not Redis Cluster.
_LUA_PRELUDE = """
local prefix = 'lucky5:room:'
local index = KEYS[1]
local t = redis.call('TIME')
local now = string.format('%d.%06d', t[1], t[2])
local function touch(code, ttl)
  redis.call('EXPIRE', prefix .. code .. ':meta', ttl)
  redis.call('EXPIRE', prefix .. code .. ':people', ttl)
  redis.call('EXPIRE', prefix .. code .. ':runs', ttl)
  redis.call('ZADD', index, now, code)
  redis.call('EXPIRE', index, ttl)
end
"""

# ARGV: code, key, stage, ttl, max_rooms, min_idle. Returns 1, 0 if the code is taken, -1 if every room is in use.
_LUA_CREATE = (
    _LUA_PRELUDE
    + """
local code, ttl, max_rooms = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(t[1]) - ttl)
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 1 then return 0 end
while redis.call('ZCARD', index) >= max_rooms do
  local oldest = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  if tonumber(now) - tonumber(oldest[2]) < tonumber(ARGV[6]) then return -1 end
  local c = redis.call('ZPOPMIN', index)[1]
  redis.call('DEL', prefix .. c .. ':meta', prefix .. c .. ':people', prefix .. c .. ':runs')
end
redis.call('HSET', meta, 'key', ARGV[2], 'stage', ARGV[3])
touch(code, ttl)
return 1
"""
)

# ARGV: code, participant, max_participants, ttl, earlier id or ''. Returns the new count, 0 when the earlier
# id is still in the room (nothing added), -1 unknown, -2 full.
_LUA_JOIN = (
    _LUA_PRELUDE
    + """
local code, ttl = ARGV[1], tonumber(ARGV[4])
if redis.call('EXISTS', prefix .. code .. ':meta') == 0 then return -1 end
local people = prefix .. code .. ':people'
touch(code, ttl)
if ARGV[5] ~= '' and redis.call('SISMEMBER', people, ARGV[5]) == 1 then return 0 end
local n = redis.call('SCARD', people)
if n >= tonumber(ARGV[3]) then return -2 end
redis.call('SADD', people, ARGV[2])
redis.call('EXPIRE', people, ttl)
return n + 1
"""
)

# ARGV: code, participant, summary JSON, ttl, stages the summary fits... Returns 'ok', 'unknown',
# 'participant', or 'stage:<current stage>'.
_LUA_SUBMIT = (
    _LUA_PRELUDE
    + """
local code, p, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
touch(code, ttl)
if redis.call('SISMEMBER', prefix .. code .. ':people', p) == 0 then return 'participant' end
local stage = redis.call('HGET', meta, 'stage')
for i = 5, #ARGV do
  if ARGV[i] == stage then
    redis.call('HSET', prefix .. code .. ':runs', p, ARGV[3])
    redis.call('EXPIRE', prefix .. code .. ':runs', ttl)
    redis.call('HINCRBY', meta, 'version', 1)
    return 'ok'
  end
end
return 'stage:' .. tostring(stage)
"""
)

# ARGV: code, ttl. Returns {stage, participants, runs...} or {} for an unknown room.
_LUA_WALL = (
    _LUA_PRELUDE
    + """
local code, ttl = ARGV[1], tonumber(ARGV[2])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return {} end
touch(code, ttl)
local out = {redis.call('HGET', meta, 'stage') or '', redis.call('SCARD', prefix .. code .. ':people')}
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
if ARGV[5] == 'reset' or redis.call('HGET', meta, 'stage') ~= stage then
  redis.call('HSET', meta, 'stage', stage)
  redis.call('DEL', prefix .. code .. ':runs')
  redis.call('HINCRBY', meta, 'version', 1)
end
touch(code, ttl)
return 'ok'
"""
)

# ARGV: code, participant, the run's JSON. Removes the participant's run only if it is still that run.
# Not activity: nothing is touched. Returns 1 if removed, else 0.
_LUA_REMOVE = """
local prefix = 'lucky5:room:'
local runs = prefix .. ARGV[1] .. ':runs'
if redis.call('HGET', runs, ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', runs, ARGV[2])
redis.call('HINCRBY', prefix .. ARGV[1] .. ':meta', 'version', 1)
return 1
"""

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
                self._create, code, key, FIRST_STAGE, self._ttl, self._max_rooms, MIN_IDLE_TO_CLOSE_SECONDS
            )
            if made == -1:
                raise busy(self._max_rooms)
            if made == 1:
                return code, key
        refuse("unavailable", "No free room code was found; try again.")

    def join(self, code: str, again: str | None = None, adopt: bool = False) -> str:
        """Join the room, as ``MemoryStore.join`` does (the same ids, the same counting), atomically in Redis."""
        code, previous, participant = joining(code, again, adopt)
        n = self._call(self._join, code, participant, self._max_participants, self._ttl, previous or "")
        if n == -1:
            raise unknown_room(code)
        if n == -2:
            raise full(self._max_participants)
        return participant if n else str(previous)

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one."""
        code, summary = normalize_code(code), check_summary(summary)
        participant = check_participant(participant)
        fits = [s.name for s in STAGES.values() if s.problem(summary) is None]
        out = self._call(self._submit, code, participant, summary.to_json(), self._ttl, *fits)
        out = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
        if out == "ok":
            return
        if out == "unknown":
            raise unknown_room(code)
        if out == "participant":
            check_participant(None)
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
        if not isinstance(out[1], int):
            refuse("unavailable", "The shared room store holds a room that does not parse.")
        runs, invalid = [], 0
        parsed = self._parsed
        if len(parsed) > 4 * self._max_participants:
            parsed.clear()
        for raw in out[2:]:
            summary = parsed.get(raw) if isinstance(raw, bytes) else None
            if summary is None:
                try:
                    summary = Summary.from_json(raw)
                except RoomError:
                    invalid += 1
                    continue
                parsed[raw] = summary
            runs.append(summary)
        return Wall(stage=stage.name, participants=out[1], runs=tuple(runs), invalid=invalid)

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

    def _presenter(self, code: str, key: str, stage: str, action: str) -> None:
        self.verify_key(code, key)
        out = self._call(self._present, code, key, self._ttl, stage, action)
        if out == b"unknown":
            raise unknown_room(code)
        if out == b"key":
            check_key(None, "")

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them)."""
        code = normalize_code(code)
        check_stage(stage)
        self._presenter(code, key, stage, "stage")

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        self._presenter(normalize_code(code), key, FIRST_STAGE, "reset")

    def close(self) -> None:
        """Close the connections to Redis (the rooms stay)."""
        self._redis.close()


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
