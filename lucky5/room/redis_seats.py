"""The Redis side of seats and limits (``lucky5.room.seats``, ``lucky5.room.limits``): the bodies of
``RedisStore``'s scripts for joining, sending a run, the presenter's doors and the token buckets.

Keys of a room besides ``redis_store``'s: ``:seats`` (set: who trained), ``:held`` (sorted set: a join not
trained -> when, Redis TIME), ``:removed`` (hash: id -> seed, runs the presenter removed); ``:meta`` holds
``cap`` (the room's capacity) and ``locked`` ('1' or '0'); ``:people`` is everyone joined (seats and holds).
Every one expires with the room (``touch``); a bucket is ``lucky5:limit:{limit}:{who}`` (hash: tokens, at),
which expires once it would be full again.

``LUA_SEATS`` runs after ``redis_store``'s prelude (``prefix``, ``now``) and before ``touch``; the other
bodies after both.
"""

from __future__ import annotations

from .codes import EMPTY_ROOM_SECONDS
from .seats import JOIN_HOLD_SECONDS, MAX_HELD

ROOM_PARTS = ("meta", "people", "runs", "poll", "votes", "seats", "held", "removed")

# forget_holds: the rule of ``seats``: holds older than HOLD, then the oldest beyond MAX_HELD, leave :people.
# admit: '' when p is in the room (held again, or seated) or may join now, else the refusal's name.
LUA_SEATS = f"""
local HOLD, MAX_HELD, EMPTY = {JOIN_HOLD_SECONDS}, {MAX_HELD}, {EMPTY_ROOM_SECONDS}
local function part(code, name) return prefix .. code .. ':' .. name end
local function forget_holds(code)
  local held, people = part(code, 'held'), part(code, 'people')
  local old = redis.call('ZRANGEBYSCORE', held, '-inf', '(' .. (tonumber(now) - HOLD))
  local over = redis.call('ZCARD', held) - MAX_HELD
  if over > #old then old = redis.call('ZRANGE', held, 0, over - 1) end
  for _, p in ipairs(old) do
    redis.call('SREM', people, p)
    redis.call('ZREM', held, p)
  end
end
local function hold(code, p)
  if redis.call('SISMEMBER', part(code, 'seats'), p) == 0 then
    redis.call('ZADD', part(code, 'held'), now, p)
    redis.call('SADD', part(code, 'people'), p)
    local ms = redis.call('PTTL', part(code, 'meta'))
    if ms > 0 then
      redis.call('PEXPIRE', part(code, 'held'), ms)
      redis.call('PEXPIRE', part(code, 'people'), ms)
    end
  end
end
local function capacity(code) return tonumber(redis.call('HGET', part(code, 'meta'), 'cap')) or 0 end
local function admit(code, p, known)
  if redis.call('HEXISTS', part(code, 'removed'), p) == 1 then return 'removed' end
  if known and redis.call('SISMEMBER', part(code, 'people'), p) == 1 then hold(code, p) return '' end
  if redis.call('HGET', part(code, 'meta'), 'locked') == '1' then return 'locked' end
  if redis.call('SCARD', part(code, 'seats')) >= capacity(code) then return 'full:' .. capacity(code) end
  hold(code, p)
  forget_holds(code)
  return ''
end
"""

# ARGV: code, participant, (unused), ttl, earlier id or ''. Returns 'again' (the earlier id is in the room),
# 'new', 'unknown', 'removed', 'locked' or 'full:<capacity>'.
LUA_JOIN = """
local code, ttl, previous = ARGV[1], tonumber(ARGV[4]), ARGV[5]
if redis.call('EXISTS', part(code, 'meta')) == 0 then return 'unknown' end
touch(code, ttl)
forget_holds(code)
if previous ~= '' then
  if redis.call('HEXISTS', part(code, 'removed'), previous) == 1 then return 'removed' end
  if redis.call('SISMEMBER', part(code, 'people'), previous) == 1 then hold(code, previous) return 'again' end
end
local why = admit(code, ARGV[2], false)
if why ~= '' then return why end
return 'new'
"""

# ARGV: code, participant, summary JSON, ttl, the stages that keep first runs (space-separated), stages the
# summary fits... Returns 'ok', 'unknown', 'removed', 'locked', 'full:<capacity>', 'kept' or 'stage:<current
# stage>'. A seat is taken only with a run the stage takes.
LUA_SUBMIT = """
local code, p, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local meta = part(code, 'meta')
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
touch(code, ttl)
forget_holds(code)
if redis.call('HEXISTS', part(code, 'removed'), p) == 1 then return 'removed' end
if redis.call('SISMEMBER', part(code, 'seats'), p) == 0 then
  local held = redis.call('ZSCORE', part(code, 'held'), p)
  if redis.call('HGET', meta, 'locked') == '1' and not held then return 'locked' end
  if redis.call('SCARD', part(code, 'seats')) >= capacity(code) then return 'full:' .. capacity(code) end
end
local stage = redis.call('HGET', meta, 'stage')
for i = 6, #ARGV do
  if ARGV[i] == stage then
    -- ARGV[5]: the stages that keep each participant's first run (``Stage.keeps_first``), space-separated
    if string.find(' ' .. ARGV[5] .. ' ', ' ' .. stage .. ' ', 1, true) then
      local old = redis.call('HGET', part(code, 'runs'), p)
      if old and old ~= ARGV[3] then return 'kept' end
    end
    redis.call('ZREM', part(code, 'held'), p)
    redis.call('SADD', part(code, 'seats'), p)
    redis.call('SADD', part(code, 'people'), p)
    redis.call('HSET', part(code, 'runs'), p, ARGV[3])
    redis.call('HINCRBY', meta, 'version', 1)
    touch(code, ttl)
    return 'ok'
  end
end
return 'stage:' .. tostring(stage)
"""

# ARGV: code, key, ttl, seed, participant ids... (those whose run had that seed when read). Takes their runs off
# the wall, their seats away and marks them removed. Returns how many runs were removed, or 'unknown' / 'key'.
LUA_REMOVE_SEED = """
local code, ttl, seed = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local meta = part(code, 'meta')
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
if redis.call('HGET', meta, 'key') ~= ARGV[2] then return 'key' end
local n = 0
for i = 5, #ARGV do
  local p = ARGV[i]
  if redis.call('HDEL', part(code, 'runs'), p) == 1 then
    n = n + 1
    redis.call('SREM', part(code, 'seats'), p)
    redis.call('SREM', part(code, 'people'), p)
    redis.call('ZREM', part(code, 'held'), p)
    redis.call('HSET', part(code, 'removed'), p, seed)
  end
end
if n > 0 then redis.call('HINCRBY', meta, 'version', 1) end
touch(code, ttl)
return n
"""

# KEYS: the bucket. ARGV: burst, rate (tokens per second), ms until a bucket is full again. ``limits.take``, with
# Redis's clock: returns '0' (allowed, a token taken) or the seconds to wait (nothing taken), as text.
LUA_LIMIT = """
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then return tostring((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens - 1), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return '0'
"""


def refusal_name(out: object) -> str:
    """A script's answer as text (Redis gives bytes)."""
    return out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
