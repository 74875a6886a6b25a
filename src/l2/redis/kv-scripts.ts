import { LEASE_CLAIM_FUNCTION, LEASE_FUNCTIONS } from "./lease-script.js";

/**
 * The cache API's atomic primitives on Redis (see l2/key-value-store.ts), one script each. Every script gets the
 * entry key as KEYS[1], the namespace's generation key as KEYS[2] and the tag-version prefix as the first ARGV; the
 * `live` check is the same decision as MemoryKeyValueStore#isLive: the entry's generation is the namespace's and
 * each of its tags still has the version it was written with (kv-envelope.ts). Tag-version keys are composed inside
 * the script from that prefix: fine on a standalone server; on a Cluster they may live in other slots (not yet
 * supported there: ARCHITECTURE.md).
 */
export const KV_LIVE_FUNCTIONS = `
local function generation()
  return tonumber(redis.call('GET', KEYS[2]) or '0') or 0
end
local function live(v, gen, tagPrefix)
  if string.byte(v, 1) ~= 101 then return gen == 0 end
  local nl = string.find(v, '\\n', 1, true)
  if not nl then return false end
  local fields = {}
  for f in string.gmatch(string.sub(v, 2, nl - 1) .. '|', '([^|]*)|') do fields[#fields + 1] = f end
  if tonumber(fields[1]) ~= gen then return false end
  for i = 4, #fields - 1, 2 do
    if (redis.call('GET', tagPrefix .. fields[i]) or '0') ~= fields[i + 1] then return false end
  end
  return true
end
local function body(v)
  if string.byte(v, 1) ~= 101 then return v end
  return string.sub(v, string.find(v, '\\n', 1, true) + 1)
end
`;

/**
 * Write (set, add, or a lease holder's fill). KEYS: entry, generation, the entry's fill lease (key-value-lease.ts),
 * then one tag-version key per tag. ARGV: tag prefix, value, ttl ms, freshUntil, deltaMs, mode ("set" | "add" |
 * "fill"), token (fill only), then the tag names. Returns 1 when written, 0 when `add` found a live entry, -1 when a
 * fill's token no longer holds the lease (voided by a write, or expired). Every write drops the lease: a fill loaded
 * before this write can no longer land. The header is built here, from the versions read in the same atomic step.
 */
export const KV_WRITE_LUA = `${KV_LIVE_FUNCTIONS}${LEASE_FUNCTIONS}
local gen = generation()
if ARGV[6] == 'add' then
  local cur = redis.call('GET', KEYS[1])
  if cur and live(cur, gen, ARGV[1]) then return 0 end
elseif ARGV[6] == 'fill' and leaseOf(KEYS[3]) ~= ARGV[7] then
  return -1
end
local ntags = #KEYS - 3
local value = ARGV[2]
if gen ~= 0 or ntags > 0 or ARGV[4] ~= '0' or ARGV[5] ~= '0' then
  local parts = { 'e' .. gen, ARGV[4], ARGV[5] }
  for i = 1, ntags do
    parts[#parts + 1] = ARGV[7 + i]
    parts[#parts + 1] = redis.call('GET', KEYS[3 + i]) or '0'
  end
  value = table.concat(parts, '|') .. '\\n' .. value
end
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
return 1
`;

/**
 * Pull: KEYS entry, generation, fill lease; ARGV tag prefix. Deletes the key (and voids its lease); returns its
 * value if it was live, else nil.
 */
export const KV_PULL_LUA = `${KV_LIVE_FUNCTIONS}
redis.call('DEL', KEYS[3])
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
redis.call('DEL', KEYS[1])
if live(cur, generation(), ARGV[1]) then return cur end
return false
`;

/**
 * Lifetime: KEYS entry, generation; ARGV tag prefix, ttl ms ("" to only read). Returns the remaining ms of a live
 * entry (after setting the new lifetime when given; -1 for no expiry), or -2 when there is none.
 */
export const KV_TTL_LUA = `${KV_LIVE_FUNCTIONS}
local cur = redis.call('GET', KEYS[1])
if not cur or not live(cur, generation(), ARGV[1]) then return -2 end
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('PTTL', KEYS[1])
`;

/**
 * Increment: KEYS entry, generation; ARGV tag prefix, by, ttl ms, floor ("" none), ceiling ("" none). Returns the
 * new count as a string, or an error reply NOTCOUNTER / OVERFLOW (nothing written). Mirrors l2/kv-counter.ts.
 */
export const KV_INCREMENT_LUA = `${KV_LIVE_FUNCTIONS}
local gen = generation()
local cur = redis.call('GET', KEYS[1])
local n = 0
local keep = false
if cur and live(cur, gen, ARGV[1]) then
  local digits = string.match(body(cur), '^j(%-?%d+)$')
  if not digits or #digits > 17 then return redis.error_reply('NOTCOUNTER') end
  n = tonumber(digits)
  keep = true
end
n = n + tonumber(ARGV[2])
if ARGV[4] ~= '' and n < tonumber(ARGV[4]) then n = tonumber(ARGV[4]) end
if ARGV[5] ~= '' and n > tonumber(ARGV[5]) then n = tonumber(ARGV[5]) end
if n > 9007199254740991 or n < -9007199254740991 then return redis.error_reply('OVERFLOW') end
local s = string.format('%d', n)
local value = 'j' .. s
if gen ~= 0 then value = 'e' .. gen .. '|0|0\\n' .. value end
if keep then
  redis.call('SET', KEYS[1], value, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
end
return s
`;

/**
 * Read or lease (getOrSet with a lease). KEYS: generation, then per key its entry and its fill lease. ARGV: tag
 * prefix, lease ms, now (epoch ms), then one token per key. Per key two values: the live entry's bytes (nil when
 * absent or not live; a stale one is returned: grace data) and 0 = fresh (no lease taken), 1 = lease granted to its
 * token, 2 = another token holds the lease, 3 = marked absent (the holder's loader returned nothing). Fresh: a plain value, or an envelope whose freshUntil is 0 or after now.
 */
export const KV_READ_OR_LEASE_LUA = `${KV_LIVE_FUNCTIONS}${LEASE_FUNCTIONS}${LEASE_CLAIM_FUNCTION}
local tagPrefix, ms, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local gen = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local out = {}
local n = 3
for i = 2, #KEYS, 2 do
  n = n + 1
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' or (v and not live(v, gen, tagPrefix)) then v = false end
  local state
  local fresh = nil
  if v then
    if string.byte(v, 1) ~= 101 then fresh = 0 else fresh = tonumber(string.match(v, '^e%d+|(%d+)|')) end
  end
  if fresh and (fresh == 0 or fresh > now) then
    state = 0
  else
    state = claim(KEYS[i + 1], ARGV[n], ms)
  end
  out[#out + 1] = v
  out[#out + 1] = state
end
return out
`;
