"""The Redis side of the votes (``lucky5.room.votes``): the keys, the bodies of ``RedisStore``'s vote scripts,
and the parse of what they store, as untrusted data.

The scripts run after ``redis_store``'s prelude (``prefix``, ``touch``, ``now``): ``RedisStore`` joins them.
"""

from __future__ import annotations

from .codes import refuse

# Votes. :poll is a hash per room: "{stage}:state" -> "round open skipped revealed" (digits, e.g. "1 1 0 0"),
# "{stage}:v" -> the vote's version, "{stage}:{round}:n" -> how many voted, "{stage}:{round}:c:{choice}" ->
# votes holding that choice. :votes: "{stage}:{round}:{participant}" -> the vote's choice ids, space-separated.
# Stage names, choice ids and participant ids hold no ':' or space, so the prefixes cannot collide. A cast
# updates the counts with the vote in one script, so two casts at once can neither lose nor double a count.
LUA_VOTE_STATE = """
local poll, votes = prefix .. ARGV[1] .. ':poll', prefix .. ARGV[1] .. ':votes'
local function vote_state(stage)
  local st = redis.call('HGET', poll, stage .. ':state') or '0 0 0 0'
  local r, o, s, v = string.match(st, '^([012]) ([01]) ([01]) ([01])$')
  if not r then return '0', '0', '0', '0' end
  return r, o, s, v
end
"""

# ARGV: code, participant, stage, ttl, the vote's ids space-separated, the ids... Returns 'ok', 'unknown',
# 'removed', 'locked', 'full:<capacity>', 'stage:<current stage>' or 'closed:<round>:<skipped>'.
LUA_CAST = """
local code, p, stage, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
touch(code, ttl)
local why = admit(code, p, true)  -- a phone whose join ran out is let in again, as a join would (``seats``)
if why ~= '' then return why end
local current = redis.call('HGET', meta, 'stage')
if current ~= stage then return 'stage:' .. tostring(current) end
local r, o, s = vote_state(stage)
if o ~= '1' then return 'closed:' .. r .. ':' .. s end
local head = stage .. ':' .. r .. ':'
local old = redis.call('HGET', votes, head .. p)
if old == ARGV[5] then return 'ok' end
if old then
  for id in string.gmatch(old, '%S+') do redis.call('HINCRBY', poll, head .. 'c:' .. id, -1) end
else
  redis.call('HINCRBY', poll, head .. 'n', 1)
end
for i = 6, #ARGV do redis.call('HINCRBY', poll, head .. 'c:' .. ARGV[i], 1) end
redis.call('HSET', votes, head .. p, ARGV[5])
redis.call('HINCRBY', poll, stage .. ':v', 1)
redis.call('EXPIRE', poll, ttl)
redis.call('EXPIRE', votes, ttl)
return 'ok'
"""

# ARGV: code, key, ttl, stage, action (votes.VOTE_ACTIONS), round. Returns 'ok', 'unknown', 'key',
# 'stage:<current stage>' (opening another stage's vote) or 'none' (no round 1 yet).
LUA_VOTE = """
local code, ttl, stage, action, round = ARGV[1], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
if redis.call('HGET', meta, 'key') ~= ARGV[2] then return 'key' end
touch(code, ttl)
local r, o, s, v = vote_state(stage)
if action == 'open' then
  local current = redis.call('HGET', meta, 'stage')
  if current ~= stage then return 'stage:' .. tostring(current) end
  if round == '2' and r == '0' then return 'none' end
  local heads = {stage .. ':2:'}
  if round == '1' then heads[2] = stage .. ':1:' end
  for _, key in ipairs({poll, votes}) do
    for _, field in ipairs(redis.call('HKEYS', key)) do
      for _, h in ipairs(heads) do
        if string.sub(field, 1, #h) == h then redis.call('HDEL', key, field) end
      end
    end
  end
  r, o, s, v = round, '1', '0', '0'
elseif action == 'skip' then
  o, s, v = '0', '1', '0'
else
  if r == '0' then return 'none' end
  o = '0'
  if action == 'reveal' then v = '1' end
end
redis.call('HSET', poll, stage .. ':state', r .. ' ' .. o .. ' ' .. s .. ' ' .. v)
redis.call('HINCRBY', poll, stage .. ':v', 1)
redis.call('EXPIRE', poll, ttl)
return 'ok'
"""


def parse_state(raw: object) -> tuple[int, bool, bool, bool]:
    """A stored vote state ("round open skipped revealed"), parsed as untrusted; no state: (0, no, no, no)."""
    if raw is None:
        return 0, False, False, False
    parts = raw.split(b" ") if isinstance(raw, bytes) else []
    if len(parts) != 4 or parts[0] not in (b"0", b"1", b"2") or any(p not in (b"0", b"1") for p in parts[1:]):
        refuse("unavailable", "The shared room store holds a vote that does not parse.")
    return int(parts[0]), parts[1] == b"1", parts[2] == b"1", parts[3] == b"1"


def parse_count(raw: object) -> int:
    """A stored count (None: 0), parsed as untrusted: a whole number >= 0."""
    if raw is None:
        return 0
    if not isinstance(raw, bytes) or not raw.isdigit() or len(raw) > 12:
        refuse("unavailable", "The shared room store holds a vote that does not parse.")
    return int(raw)
