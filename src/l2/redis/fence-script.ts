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
 * KEYS[1] entry key   KEYS[2] version-floor key   KEYS[3] idle-clock key (used when ARGV[7] > 0)
 * ARGV[1] new envelope   ARGV[2] physical ttl (ms)   ARGV[3] fingerprint
 * ARGV[4] incarnation    ARGV[5] rev, or "T" for a tombstone   ARGV[6] freshUntil
 * ARGV[7] sliding window (ms), 0 when not sliding   ARGV[8] "1" when a writer puts (raise the floor)
 * Returns 1 when stored, 0 when a version at least as new is there.
 */
export const FENCED_PUT_LUA = `
local ni = tonumber(ARGV[4])
local floor = redis.call('GET', KEYS[2])
if floor then
  local fi, fr = string.match(floor, '^(%d+)|([%dT]+)$')
  if fi then
    fi = tonumber(fi)
    if fi > ni then return 0 end
    if fi == ni then
      if fr == 'T' then return 0 end
      if ARGV[5] ~= 'T' and tonumber(fr) > tonumber(ARGV[5]) then return 0 end
    end
  end
end
local cur = redis.call('GET', KEYS[1])
if cur then
  local fp, inc, rev, fu = string.match(cur, '^s1|([^|]*)|(%d+)|([%dT]+)|%d+|%d+|(%d+)|')
  if fp == ARGV[3] then
    local ci = tonumber(inc)
    if ci > ni then return 0 end
    if ci == ni then
      if rev == 'T' then return 0 end
      if ARGV[5] ~= 'T' then
        local cr = tonumber(rev)
        local nr = tonumber(ARGV[5])
        if cr > nr then return 0 end
        if cr == nr and tonumber(fu) >= tonumber(ARGV[6]) then return 0 end
      end
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[8] == '1' then
  redis.call('SET', KEYS[2], ARGV[4] .. '|' .. ARGV[5], 'PX', ARGV[2])
end
if tonumber(ARGV[7]) > 0 then
  if ARGV[5] == 'T' then
    redis.call('DEL', KEYS[3])
  else
    redis.call('SET', KEYS[3], '1', 'PX', ARGV[7])
  end
end
return 1`;

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
