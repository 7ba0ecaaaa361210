/**
 * The Lua scripts of the Redis inbox. Each runs on the keys of one user, which share a hash tag
 * (see `RedisOfflineMessageDriver`), so each is atomic and Redis Cluster can run it:
 *   KEYS[1] `in`   ZSET  message id -> seq: the inbox order
 *   KEYS[2] `exp`  ZSET  message id -> expiresAt: what has expired, exactly, whatever its seq
 *   KEYS[3] `msg`  HASH  message id -> "<body bytes> <message JSON>"
 *   KEYS[4] `use`  HASH  messages, bytes: what the inbox holds, so a quota check reads one key
 * A message is expired when `expiresAt <= now`, as in the SQLite driver. The body's byte count
 * leads the stored value so a script reads it without decoding JSON.
 */

/** Shared by the scripts that change an inbox; `usage` and `settle` keep the four keys in step. */
const INBOX_CHANGES = `
local usage = redis.call('HMGET', KEYS[4], 'messages', 'bytes')
local messages = tonumber(usage[1] or '0')
local bytes = tonumber(usage[2] or '0')
local changed = false

local function drop(id)
  local value = redis.call('HGET', KEYS[3], id)
  if not value then return false end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  messages = messages - 1
  bytes = bytes - tonumber(string.match(value, '^%d+'))
  changed = true
  return true
end

-- Deletes up to limit expired messages; answers how many.
local function trim(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do drop(id) end
  return #expired
end

-- Writes the usage back, and makes every key expire with the last message it holds: once all
-- have expired, nothing of the inbox is left in Redis, whether or not a purge ever comes by.
local function settle()
  if not changed then return end
  if redis.call('ZCARD', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
    return
  end
  redis.call('HSET', KEYS[4], 'messages', messages, 'bytes', bytes)
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
  for k = 1, 4 do redis.call('PEXPIREAT', KEYS[k], last) end
end
`;

/** Expired entries a write deletes on its way: a bound on the work one send can cause. */
export const WRITE_TRIM_LIMIT = 100;

/**
 * One recipient's share of an `InboxWrite`, in the order the SQLite writer applies it: removals
 * first (they free room for what arrives), then appends, each checked against the quota unless
 * already stored. On the way it trims a few expired entries, which frees their quota sooner than
 * the purge would. A message already expired is not stored: it could never be delivered.
 * Answers the ids refused at the quota.
 * ARGV: now, maxMessages (-1: no quota), maxBytes, removal count, the removed ids, then five
 * values per append: id, seq, expiresAt, body bytes, stored value.
 */
export const INBOX_WRITE_SCRIPT = `${INBOX_CHANGES}
local now = tonumber(ARGV[1])
local maxMessages = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])
trim(now, ${WRITE_TRIM_LIMIT})
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  drop(ARGV[i])
  i = i + 1
end
local refused = {}
while i <= #ARGV do
  local id, seq, expiresAt, size, value = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4]
  i = i + 5
  if tonumber(expiresAt) > now and redis.call('HEXISTS', KEYS[3], id) == 0 then
    if maxMessages >= 0 and (messages + 1 > maxMessages or bytes + size > maxBytes) then
      refused[#refused + 1] = id
    else
      redis.call('ZADD', KEYS[1], seq, id)
      redis.call('ZADD', KEYS[2], expiresAt, id)
      redis.call('HSET', KEYS[3], id, value)
      messages = messages + 1
      bytes = bytes + size
      changed = true
    end
  end
end
settle()
return refused
`;

/** Deletes up to ARGV[2] messages expired at ARGV[1] (now); answers how many. */
export const INBOX_TRIM_SCRIPT = `${INBOX_CHANGES}
local trimmed = trim(tonumber(ARGV[1]), tonumber(ARGV[2]))
settle()
return trimmed
`;

/**
 * Up to ARGV[2] (limit) stored values of messages unexpired at ARGV[1] (now) with seq above
 * ARGV[3], oldest first, stopping once their bodies reach ARGV[4] bytes (-1: no bound); the
 * first one always counts. Reads only: an expired message is skipped, and left to the purge.
 */
export const INBOX_PEEK_SCRIPT = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[4])
local out = {}
local total = 0
local offset = 0
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'LIMIT', offset, limit)
  for _, id in ipairs(ids) do
    local expiresAt = redis.call('ZSCORE', KEYS[2], id)
    if expiresAt and tonumber(expiresAt) > now then
      local value = redis.call('HGET', KEYS[3], id)
      out[#out + 1] = value
      total = total + tonumber(string.match(value, '^%d+'))
      if #out >= limit or (maxBytes >= 0 and total >= maxBytes) then return out end
    end
  end
  if #ids < limit then break end
  offset = offset + #ids
end
return out
`;

/** Raises KEYS[1] to ARGV[1], never lowers it: concurrent writers leave the highest seq. */
export const RAISE_MAX_SEQ_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
`;
