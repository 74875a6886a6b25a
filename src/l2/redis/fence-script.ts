/**
 * The set-if-newer fence, run atomically in Redis. It reads only the envelope header (see entry-envelope.ts) and
 * the version floor, never the JSON body. An entry it cannot parse, or one from another fingerprint, is
 * overwritten (corrupt = miss).
 *
 * The version floor is the newest version a *writer* (write-through or tombstone) has put, kept in a small key
 * beside the entry. It makes the fence survive the entry itself vanishing — evicted under maxmemory, expired, or
 * deleted by an operator — between a write-through and a slow reader's stale fill: without it, an absent entry
 * would let the older version in.
 *
 * put(entry key, floor key, idle-clock key, envelope, physical ttl ms, fingerprint, incarnation, rev or "T",
 *     freshUntil, sliding window ms (0: not sliding), "1" when a writer puts (raise the floor))
 * returns 1 when stored, 0 when a version at least as new is there.
 */
const FENCE_FUNCTION = `
local function put(ek, fk, ck, envelope, ttl, fp, inc, rev, fresh, slide, raise)
  local ni = tonumber(inc)
  local floor = redis.call('GET', fk)
  if floor then
    local fi, fr = string.match(floor, '^(%d+)|([%dT]+)$')
    if fi then
      fi = tonumber(fi)
      if fi > ni then return 0 end
      if fi == ni then
        if fr == 'T' then return 0 end
        if rev ~= 'T' and tonumber(fr) > tonumber(rev) then return 0 end
      end
    end
  end
  local cur = redis.call('GET', ek)
  if cur then
    local cfp, ci, cr, cfu = string.match(cur, '^s1|([^|]*)|(%d+)|([%dT]+)|%d+|%d+|(%d+)|')
    if cfp == fp then
      ci = tonumber(ci)
      if ci > ni then return 0 end
      if ci == ni then
        if cr == 'T' then return 0 end
        if rev ~= 'T' then
          cr = tonumber(cr)
          local nr = tonumber(rev)
          if cr > nr then return 0 end
          if cr == nr and tonumber(cfu) >= tonumber(fresh) then return 0 end
        end
      end
    end
  end
  redis.call('SET', ek, envelope, 'PX', ttl)
  if raise == '1' then
    redis.call('SET', fk, inc .. '|' .. rev, 'PX', ttl)
  end
  if tonumber(slide) > 0 then
    if rev == 'T' then
      redis.call('DEL', ck)
    else
      redis.call('SET', ck, '1', 'PX', slide)
    end
  end
  return 1
end
`;

/**
 * One fenced put. KEYS: entry, floor, idle clock. ARGV: envelope, ttl, fingerprint, incarnation, rev, freshUntil,
 * sliding window, raise-floor flag (see `put` above).
 */
export const FENCED_PUT_LUA = `${FENCE_FUNCTION}
return put(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])`;

/**
 * Many fenced puts in one script call (all keys in one hash slot): a Lua call costs Redis several microseconds, so a
 * batch fill of 100 entries pays it once, not 100 times. KEYS: entry, floor, clock per item; ARGV: the window, then
 * envelope, ttl, incarnation, rev, freshUntil per item (fingerprint and raise flag are shared: ARGV[2], ARGV[3]).
 * Returns one 1/0 per item.
 */
export const FENCED_PUT_MANY_LUA = `${FENCE_FUNCTION}
local out = {}
local slide, fp, raise = ARGV[1], ARGV[2], ARGV[3]
for i = 0, #KEYS / 3 - 1 do
  local k, a = i * 3, 3 + i * 5
  out[i + 1] = put(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], ARGV[a + 2], fp, ARGV[a + 3], ARGV[a + 4],
    ARGV[a + 5], slide, raise)
end
return out`;

/**
 * A sliding read: for each (entry, idle-clock) key pair, the entry when its idle clock is still running — and the
 * clock is pushed back to a full window — or false when the entry is absent or has been idle a whole window.
 * The idle clock lives outside the tracked namespace prefix, so extending it never invalidates other replicas'
 * L1 (Redis counts PEXPIRE as a write for CLIENT TRACKING); the entry itself is only read.
 *
 * KEYS: entry1, clock1, entry2, clock2, …   ARGV[1] sliding window (ms)
 */
export const SLIDING_READ_LUA = `
local out = {}
for i = 1, #KEYS, 2 do
  local v = redis.call('GET', KEYS[i])
  if v and redis.call('PEXPIRE', KEYS[i + 1], ARGV[1]) == 1 then
    out[#out + 1] = v
  else
    out[#out + 1] = false
  end
end
return out`;
