/**
 * The Lua scripts of the Redis store: every operation that touches more than one key is one
 * script, so it is atomic and costs one round trip. ioredis's `defineCommand` sends a script once
 * per connection and then runs it by SHA (EVALSHA, with a NOSCRIPT fallback).
 *
 * Mutation scripts share one argument layout so the audit trail can be written in the same step:
 *   ARGV[1] audit mode: 'i' = chained stream (KEYS[#KEYS-1] log, KEYS[#KEYS] head) on a single
 *           shard; 'o' = the user's outbox stream (KEYS[#KEYS]) on a cluster, returned to the
 *           caller to be chained next
 *   ARGV[2] stream MAXLEN (approximate), ARGV[3..5] the parts of a `session.revoked` event
 *           template, ARGV[6] pub/sub channel, ARGV[7] n, ARGV[8..7+n] canonical events
 *   ARGV[8+n]... the script's own arguments (`A` below)
 *
 * @example client.defineCommand('skRevoke', { lua: REVOKE })
 */
import { GENESIS_HASH } from '../../audit/chain.js';
import { SHA256_LUA } from './sha256-lua.js';

const PRELUDE = `
local NULL = cjson.null
local sk_srv_now = nil
local function sk_at(ret, cnow)
  if not sk_srv_now then
    local t = redis.call('TIME')
    sk_srv_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return sk_srv_now + (ret - cnow)
end
-- Expiry is a duration in the caller's clock turned into the server's: clock skew between the
-- application and Redis never shortens a session.
local function sk_expire(key, ret, cnow) redis.call('PEXPIREAT', key, sk_at(ret, cnow)) end
local function sk_extend(key, ret, cnow)
  if ret <= cnow then return end
  local at = sk_at(ret, cnow)
  local cur = redis.call('PEXPIRETIME', key)
  if cur == -2 then return end
  if cur == -1 or cur < at then redis.call('PEXPIREAT', key, at) end
end
local function sk_parse(v)
  local nl = string.find(v, '\\n', 1, true)
  return cjson.decode(string.sub(v, 1, nl - 1)), string.sub(v, nl)
end
local function sk_encode(h, body) return cjson.encode(h) .. body end
local function sk_retention(h)
  if h[6] ~= NULL then return h[2] + h[5] end
  return h[2] + math.min(h[4], h[5])
end
local function sk_live(h, now) return h[6] == NULL and now < h[2] + h[4] and now < h[2] + h[5] end
local sk_esc = { ['"'] = '\\\\"', ['\\\\'] = '\\\\\\\\', ['\\b'] = '\\\\b', ['\\f'] = '\\\\f', ['\\n'] = '\\\\n', ['\\r'] = '\\\\r', ['\\t'] = '\\\\t' }
-- A JSON string exactly as JavaScript's JSON.stringify writes it, so chain hashes agree.
local function sk_jstr(s)
  local out = string.gsub(s, '[%z\\1-\\31"\\\\]', function(c) return sk_esc[c] or string.format('\\\\u%04x', string.byte(c)) end)
  return '"' .. out .. '"'
end
`;

const AUDIT = `
${SHA256_LUA}
local sk_mode, sk_maxlen, sk_p1, sk_p2, sk_p3, sk_channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local sk_n = tonumber(ARGV[7])
local sk_ev = {}
for i = 1, sk_n do sk_ev[i] = ARGV[7 + i] end
local A = 8 + sk_n
local function sk_revoked_event(sid, uid, reason)
  sk_ev[#sk_ev + 1] = sk_p1 .. sk_jstr(sid) .. ',' .. sk_jstr(uid) .. ',' .. sk_p2 .. sk_jstr(reason) .. sk_p3
end
local function sk_publish_revoked(sid, h)
  redis.call('PUBLISH', sk_channel, cjson.encode({ type = 'revoked', sessionId = sid, userId = h[8], at = h[6] }))
end
-- Marks a decoded record revoked, rewrites it, keeps it until its absolute expiry, announces it.
local function sk_revoke(key, sid, h, body, at, reason)
  h[1] = h[1] + 1
  h[6] = at
  h[7] = reason
  redis.call('SET', key, sk_encode(h, body))
  sk_expire(key, sk_retention(h), at)
  sk_publish_revoked(sid, h)
end
-- Writes the collected events; returns those the caller must still chain (cluster outbox).
local function sk_flush()
  if #sk_ev == 0 then return {} end
  if sk_mode == 'i' then
    local log, headKey = KEYS[#KEYS - 1], KEYS[#KEYS]
    local head = redis.call('GET', headKey)
    local seq, prev = 0, '${GENESIS_HASH}'
    if head then
      local p = string.find(head, '|', 1, true)
      seq = tonumber(string.sub(head, 1, p - 1))
      prev = string.sub(head, p + 1)
    end
    for _, e in ipairs(sk_ev) do
      seq = seq + 1
      local s = string.format('%d', seq)
      local hash = sk_sha256(prev .. '|' .. s .. '|' .. e)
      redis.call('XADD', log, 'MAXLEN', '~', sk_maxlen, '0-' .. s, 'p', prev, 'h', hash, 'e', e)
      prev = hash
    end
    redis.call('SET', headKey, string.format('%d', seq) .. '|' .. prev)
    return {}
  end
  local outbox = KEYS[#KEYS]
  for _, e in ipairs(sk_ev) do redis.call('XADD', outbox, 'MAXLEN', '~', sk_maxlen, '*', 'e', e) end
  redis.call('PEXPIRE', outbox, 2592000000)
  return sk_ev
end
`;

/**
 * KEYS: record, index, [replaced record], audit keys.
 * A: now, value, createdAt, retention, limit max (0: none), policy, replaces id ('' none), tag, member.
 * Returns {1, revoked values, their ids, outbox} | {0, live count} (limit, reject policy) | {-1} (id taken).
 */
export const CREATE = `${PRELUDE}${AUDIT}
local now, value, createdAt, retention = tonumber(ARGV[A]), ARGV[A + 1], tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3])
local max, policy, replaces, tag, member = tonumber(ARGV[A + 4]), ARGV[A + 5], ARGV[A + 6], ARGV[A + 7], ARGV[A + 8]
local uid = ARGV[A + 9]
local rec, idx = KEYS[1], KEYS[2]
if redis.call('EXISTS', rec) == 1 then return { -1 } end
local prefix = string.sub(rec, 1, #rec - #member)
local live = {}
if max > 0 then
  local members = redis.call('ZRANGE', idx, 0, -1)
  for _, m in ipairs(members) do
    local v = redis.call('GET', prefix .. m)
    if not v then
      redis.call('ZREM', idx, m)
    elseif tag .. m ~= replaces then
      local h, body = sk_parse(v)
      if h[8] == uid and sk_live(h, now) then live[#live + 1] = { m, v, h, body } end
    end
  end
  if #live + 1 > max and policy == 'reject' then return { 0, #live } end
else
  -- Without a limit nothing reads the index on create; prune a little of it instead.
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, 1)) do
    if redis.call('EXISTS', prefix .. m) == 0 then redis.call('ZREM', idx, m) end
  end
end
local revoked, ids = {}, {}
if replaces ~= '' then
  local v = redis.call('GET', KEYS[3])
  if v then
    local h, body = sk_parse(v)
    if h[6] == NULL then
      revoked[#revoked + 1] = v
      ids[#ids + 1] = replaces
      sk_revoked_event(replaces, h[8], 'replaced')
      sk_revoke(KEYS[3], replaces, h, body, now, 'replaced')
    end
  end
end
if max > 0 then
  for i = 1, #live + 1 - max do
    local m, v, h, body = live[i][1], live[i][2], live[i][3], live[i][4]
    revoked[#revoked + 1] = v
    ids[#ids + 1] = tag .. m
    sk_revoked_event(tag .. m, h[8], 'evicted')
    sk_revoke(prefix .. m, tag .. m, h, body, now, 'evicted')
  end
end
redis.call('SET', rec, value)
sk_expire(rec, retention, now)
redis.call('ZADD', idx, createdAt, member)
sk_extend(idx, retention, now)
return { 1, revoked, ids, sk_flush() }
`;

/**
 * Compare-and-swap of a whole record. KEYS: record, index, audit keys.
 * A: expected version, value, caller's now, session id. Returns {1|0, outbox}.
 */
export const REPLACE = `${PRELUDE}${AUDIT}
local expected, value, now, sid = tonumber(ARGV[A]), ARGV[A + 1], tonumber(ARGV[A + 2]), ARGV[A + 3]
local v = redis.call('GET', KEYS[1])
if not v then return { 0, {} } end
local h = sk_parse(v)
if h[1] ~= expected or h[6] ~= NULL then return { 0, {} } end
redis.call('SET', KEYS[1], value)
local n = sk_parse(value)
local ret = sk_retention(n)
sk_expire(KEYS[1], ret, now)
if n[6] == NULL then sk_extend(KEYS[2], ret, now) else sk_publish_revoked(sid, n) end
return { 1, sk_flush() }
`;

/** The throttled sliding-expiry write. KEYS: record, index. ARGV: lastSeenAt, idleExpiresAt. */
export const TOUCH = `${PRELUDE}
local ls, ie = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local h, body = sk_parse(v)
if h[6] ~= NULL or ls <= h[2] + h[3] then return 0 end
h[3] = ls - h[2]
h[4] = ie - h[2]
redis.call('SET', KEYS[1], sk_encode(h, body))
local ret = sk_retention(h)
sk_expire(KEYS[1], ret, ls)
sk_extend(KEYS[2], ret, ls)
return 1
`;

/** KEYS: record, audit keys. A: at, reason, session id. Returns {old value | false, outbox}. */
export const REVOKE = `${PRELUDE}${AUDIT}
local at, reason, sid = tonumber(ARGV[A]), ARGV[A + 1], ARGV[A + 2]
local v = redis.call('GET', KEYS[1])
if not v then return { false, {} } end
local h, body = sk_parse(v)
if h[6] ~= NULL then return { false, {} } end
sk_revoke(KEYS[1], sid, h, body, at, reason)
return { v, sk_flush() }
`;

/**
 * KEYS: index, audit keys. A: at, reason, except id ('' none), tag, user id.
 * Returns {revoked old values, revoked ids, outbox}.
 */
export const REVOKE_ALL = `${PRELUDE}${AUDIT}
local at, reason, except, tag, uid = tonumber(ARGV[A]), ARGV[A + 1], ARGV[A + 2], ARGV[A + 3], ARGV[A + 4]
local idx = KEYS[1]
local prefix = string.sub(idx, 1, #idx - 1) .. 's:'
local values, ids = {}, {}
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local v = redis.call('GET', prefix .. m)
  if not v then
    redis.call('ZREM', idx, m)
  elseif tag .. m ~= except then
    local h, body = sk_parse(v)
    if h[6] == NULL and h[8] == uid then
      values[#values + 1] = v
      ids[#ids + 1] = tag .. m
      sk_revoked_event(tag .. m, h[8], reason)
      sk_revoke(prefix .. m, tag .. m, h, body, at, reason)
    end
  end
end
return { values, ids, sk_flush() }
`;

/** KEYS: index. Returns {members, values} of the records still there, pruning the rest. */
export const LIST = `
local idx = KEYS[1]
local prefix = string.sub(idx, 1, #idx - 1) .. 's:'
local members, values = {}, {}
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local v = redis.call('GET', prefix .. m)
  if v then
    members[#members + 1] = m
    values[#values + 1] = v
  else
    redis.call('ZREM', idx, m)
  end
end
return { members, values }
`;

/** KEYS: record, index. ARGV: now, member. Deletes the record if past its retention; returns it. */
export const SWEEP = `${PRELUDE}
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return false
end
local h = sk_parse(v)
if sk_retention(h) > tonumber(ARGV[1]) then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return v
`;

/** Appends events to the chained stream. KEYS: log, head. The common audit arguments only. */
export const APPEND = `${PRELUDE}${AUDIT}
return sk_flush()
`;

/** KEYS: the kind's hash. ARGV: id, value, ifAbsent ('1'), channel ('' for none), at. */
export const PUT_RECORD = `
local written
if ARGV[3] == '1' then written = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  written = 1
end
if written == 1 and ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], '{"type":"keys","at":' .. ARGV[5] .. '}')
end
return written
`;

/** KEYS: the salt key. ARGV: a candidate. Returns the salt every process agrees on. */
export const SALT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`;

export const SCRIPTS = {
  skCreate: CREATE, skReplace: REPLACE, skTouch: TOUCH, skRevoke: REVOKE, skRevokeAll: REVOKE_ALL,
  skList: LIST, skSweep: SWEEP, skAppend: APPEND, skPutRecord: PUT_RECORD, skSalt: SALT,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
