import { FENCE_FUNCTION } from "./fence-script.js";

/**
 * The fill-lease scripts (entry-lease.ts), run atomically in Redis. Every key of one call shares a hash slot (the
 * `{<id>}` tag, grouped per slot by the caller). A lease is a string key holding its holder's token, always with a
 * PX expiry: a lease key without one (planted, or left by a foreign writer) or of another type is dropped and
 * counts as absent, so nothing can wedge an id (the "lock without TTL" trap).
 */
export const LEASE_FUNCTIONS = `
local function leaseOf(lk)
  local v = redis.pcall('GET', lk)
  if type(v) == 'table' or (v and redis.call('PTTL', lk) == -1) then
    redis.call('DEL', lk)
    return false
  end
  return v
end
`;

/** The claim of a lookup that needs its value filled, shared by the read-or-lease scripts (documents and getOrSet). */
export const LEASE_CLAIM_FUNCTION = `
-- 1 = the lease goes to token now, 2 = another token holds it, 3 = a holder marked the key absent.
local function claim(lk, token, ms)
  local holder = leaseOf(lk)
  if holder == '!absent' then return 3 end
  if holder then return 2 end
  redis.call('SET', lk, token, 'PX', ms)
  return 1
end
`;

/**
 * Read or lease. KEYS: entry, idle clock, lease per id. ARGV: lease ms, now (ms), sliding window (0: off), then one
 * token per id (the token its lease goes to: waiters of several lookups are polled in one call).
 * Per id, two values: the entry bytes (nil when absent or idle too long) and 0 = fresh by its header (no lease
 * taken), 1 = lease granted to the token, 2 = another token holds the lease, 3 = a holder marked the id absent.
 * Only the header's rev and freshUntil are read (entry-envelope.ts); whether the entry is usable stays the
 * coordinator's decision.
 */
export const READ_OR_LEASE_LUA = `${LEASE_FUNCTIONS}${LEASE_CLAIM_FUNCTION}
local ms, now, slide = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local n = 3
for i = 1, #KEYS, 3 do
  n = n + 1
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then v = '' end -- another type: an empty value, which decodes as corrupt (a miss)
  if v and slide > 0 and redis.call('PEXPIRE', KEYS[i + 1], slide) == 0 then v = false end
  local state
  local rev, fresh = nil, nil
  if v then rev, fresh = string.match(v, '^s1|[^|]*|%d+|([%dT]+)|%d+|%d+|(%d+)|') end
  if rev and rev ~= 'T' and tonumber(fresh) > now then
    state = 0
  else
    state = claim(KEYS[i + 2], ARGV[n], ms)
  end
  out[#out + 1] = v
  out[#out + 1] = state
end
return out`;

/**
 * Leased fills. KEYS: entry, floor, idle clock, lease per item. ARGV: window, fingerprint, max ttl, token, then
 * envelope, ttl, incarnation, rev, freshUntil per item. An item lands only while the token holds its lease and the
 * fence (fence-script.ts) accepts it; the lease is dropped either way. Per item: 1 stored, 0 refused by the fence,
 * -1 the lease was lost (voided by a writer, or expired), nothing written.
 */
export const LEASED_FILL_LUA = `${FENCE_FUNCTION}${LEASE_FUNCTIONS}
local slide, fp, maxttl, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local k, a = i * 4, 4 + i * 5
  if leaseOf(KEYS[k + 4]) == token then
    out[i + 1] = put(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], ARGV[a + 2], fp, ARGV[a + 3], ARGV[a + 4],
      ARGV[a + 5], slide, '0', maxttl)
    redis.call('DEL', KEYS[k + 4])
  else
    out[i + 1] = -1
  end
end
return out`;

/** Renewal. KEYS: lease. ARGV: token, lease ms. 1 when the token still held it (now expiring later), else 0. */
export const RENEW_LEASE_LUA = `${LEASE_FUNCTIONS}
if leaseOf(KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** Release. KEYS: leases. ARGV: token. Drops each lease the token holds. */
export const RELEASE_LEASE_LUA = `${LEASE_FUNCTIONS}
for i = 1, #KEYS do
  if leaseOf(KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0`;

/** Try-only leases. KEYS: leases. ARGV: token, lease ms. Per key 1 when taken, 0 when someone holds it. */
export const TRY_LEASE_LUA = `${LEASE_FUNCTIONS}
local out = {}
for i = 1, #KEYS do
  if leaseOf(KEYS[i]) then
    out[i] = 0
  else
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    out[i] = 1
  end
end
return out`;

/**
 * Absent markers. KEYS: leases. ARGV: token, marker life ms. Each lease the token holds becomes the absent marker
 * (`!absent`, entry-lease.ts ABSENT_MARKER) for that long: its waiters learn the row is absent without reading it.
 */
export const MARK_ABSENT_LUA = `${LEASE_FUNCTIONS}
for i = 1, #KEYS do
  if leaseOf(KEYS[i]) == ARGV[1] then redis.call('SET', KEYS[i], '!absent', 'PX', ARGV[2]) end
end
return 0`;
