/**
 * The set-if-newer fence, run atomically in Redis. It reads only the envelope header (see entry-envelope.ts) and
 * the version floor, never the JSON body.
 *
 * The version floor is the newest version a *writer* (write-through or tombstone) has put, kept in a small key
 * beside the entry. It makes the fence survive the entry itself vanishing — evicted under maxmemory, expired, or
 * deleted by an operator — between a write-through and a slow reader's stale fill: without it, an absent entry
 * would let the older version in.
 *
 * Bad data in Redis costs misses, never a stuck key:
 * - An entry or floor the fence cannot parse — garbled, truncated, old format, another fingerprint — is absent to
 *   it: the entry is replaced by this put, the floor is deleted. The rules are entry-envelope.ts' exactly. A key of
 *   another Redis type (a hash, a list…) is absent to it too (MGET reads it as nil, so the script cannot fail on
 *   it): a put's SET replaces such an entry, a writer's SET such a floor; readers see the entry as corrupt (a miss).
 * - The library never writes an entry or floor without a PX TTL, nor with one above the document's longest lifetime
 *   (`maxttl`: max(ttl, ageTtl.max) + grace, at least 60 s — a tombstone's life). A key with no TTL is foreign and
 *   treated as absent. A key whose TTL exceeds `maxttl` is cut down to `maxttl` (PEXPIRE) and still honoured — it
 *   may be a newer version from a replica configured with a longer ttl (a rolling deploy) — except that a put of the
 *   same version may replace it. TTLs are looked at only when the key would keep the put out (a key the put
 *   supersedes is harmless whatever its TTL): the common fill is one MGET and one SET inside the script.
 * The bounds, with L = `maxttl` and F the document's longest freshness (max(ttl, ageTtl.max)):
 * - undecodable entry or floor, or one without a TTL: replaced (dropped) by the next fill, write-through, tombstone
 *   or create — the newest committed version is cached on the next read;
 * - a well-formed forgery claiming a newer version (recognising it outright needs sealing): readers never serve it
 *   while its freshUntil lies more than F + 1 s ahead (the coordinator's #judge), and it keeps fills and
 *   write-throughs out for at most L after the first fence it rejects — at most F + 1 s + L after it was planted;
 *   a planted floor, at most L after the first fence it rejects.
 *
 * put(entry key, floor key, idle-clock key, envelope, physical ttl ms, fingerprint, incarnation, rev or "T",
 *     freshUntil, sliding window ms (0: not sliding), "1" when a writer puts (raise the floor), max ttl ms (0: none))
 * returns 1 when stored, 0 when a version at least as new is there. An empty envelope *clears*: the entry is
 * deleted instead of set when older than the given version (a create: see DocumentEntryStore.clear).
 */
export const FENCE_FUNCTION = `
local MAXN = 9007199254740991
local INF = math.huge
local function num(s)
  if s == nil or #s == 0 or #s > 16 then return nil end
  local n = tonumber(s)
  if n == nil or n > MAXN then return nil end
  return n
end
local function revOf(s)
  if s == 'T' then return INF end
  local n = num(s)
  if n == nil or n < 1 then return nil end
  return n
end
-- The version an envelope's header carries: incarnation, rev (or T) and freshUntil, as strings; nil when not ours.
local function headerVersion(envelope)
  return string.match(envelope, '^s1|[^|]*|(%d+)|([%dT]+)|%d+|%d+|(%d+)|')
end
-- -1: no TTL (foreign: the library always sets one); 1: longer than the library ever writes (cut down); 0: ours
local function ttlClass(key, maxttl)
  local pttl = redis.call('PTTL', key)
  if pttl == -1 then return -1 end
  if maxttl > 0 and pttl > maxttl then
    redis.call('PEXPIRE', key, maxttl)
    return 1
  end
  return 0
end
-- floor, cur: the values of fk and ek, read by the caller with MGET (one call for both, or for a whole batch). MGET
-- answers nil for a key of another type (a hash, a list…: never ours), so such a key is absent here and can never
-- make the script fail: SET replaces it.
local function putWith(ek, fk, ck, envelope, ttl, fp, inc, rev, fresh, slide, raise, maxttl, floor, cur)
  -- The version order below (floor, then entry) is version-order.ts' supersedes(), which the memory backend runs.
  -- A TTL is asked for (PTTL) only when a key would reject the put: a key the put supersedes cannot keep it out
  -- whatever its TTL, so the common fill costs MGET + SET. With neither key there (a cold fill), nothing is parsed.
  if floor or cur then
    local ni = tonumber(inc)
    local nr = revOf(rev)
    maxttl = tonumber(maxttl) or 0
    if floor then
      local si, sr = string.match(floor, '^(%d+)|([%dT]+)$')
      local fi, fr = num(si), revOf(sr)
      if fi == nil or fr == nil then
        redis.call('DEL', fk)
      elseif fi > ni or (fi == ni and (fr == INF or fr > nr)) then
        if ttlClass(fk, maxttl) < 0 then
          redis.call('DEL', fk)
        else
          -- Rejected by the floor: the entry is not examined, but it may not outlive the bound either.
          local pttl = redis.call('PTTL', ek)
          if maxttl > 0 and (pttl == -1 or pttl > maxttl) then redis.call('PEXPIRE', ek, maxttl) end
          return 0
        end
      end
    end
    if cur then
      local _, e, cfp, si, sr, sa, sd, su = string.find(cur, '^s1|([^|]*)|(%d+)|([^|]*)|(%d+)|(%d+)|(%d+)|')
      local ci, cr = num(si), revOf(sr)
      local ok = cfp == fp and ci ~= nil and cr ~= nil and num(sa) ~= nil and num(sd) ~= nil and num(su) ~= nil
      if ok and (cr == INF) ~= (e == #cur) then ok = false end
      if ok then
        -- 2: newer (keeps the put out when ours), 1: the same version at least as fresh (only when its TTL is ours)
        local keep = 0
        if ci > ni or (ci == ni and (cr == INF or (nr ~= INF and cr > nr))) then keep = 2
        elseif ci == ni and nr ~= INF and cr == nr and num(su) >= tonumber(fresh) then keep = 1 end
        if keep > 0 then
          local class = ttlClass(ek, maxttl)
          if class == 0 or (class > 0 and keep == 2) then return 0 end
        end
      end
    end
  end
  if envelope == '' then
    redis.call('DEL', ek)
  else
    redis.call('SET', ek, envelope, 'PX', ttl)
  end
  if raise == '1' then
    redis.call('SET', fk, inc .. '|' .. rev, 'PX', ttl)
  end
  if tonumber(slide) > 0 then
    if rev == 'T' or envelope == '' then
      redis.call('DEL', ck)
    else
      redis.call('SET', ck, '1', 'PX', slide)
    end
  end
  return 1
end
-- One put that reads its own floor and entry (one MGET): other scripts' fills.
local function put(ek, fk, ck, envelope, ttl, fp, inc, rev, fresh, slide, raise, maxttl)
  local both = redis.call('MGET', fk, ek)
  return putWith(ek, fk, ck, envelope, ttl, fp, inc, rev, fresh, slide, raise, maxttl, both[1], both[2])
end
`;

/**
 * One fenced put (a fill, write-through, tombstone or clear). KEYS: entry, floor, and the idle clock only when
 * sliding. ARGV: envelope, ttl, fingerprint, raise-floor flag, max ttl, sliding window ("0": not sliding), and — only
 * to clear, whose envelope is empty — incarnation and rev. The version otherwise comes from the envelope's own header
 * (as in the batch script): every argument costs Redis a Lua string and the client an encoding, and a fill is the
 * common call. A cold fill (no floor, no entry, not a writer) returns before the fence's functions are even defined:
 * one MGET and one SET, nothing parsed.
 */
export const FENCED_PUT_LUA = `local ek, fk, envelope, ttl, raise = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[4]
local both = redis.call('MGET', fk, ek)
if not both[1] and not both[2] and raise ~= '1' and envelope ~= '' then
  redis.call('SET', ek, envelope, 'PX', ttl)
  if KEYS[3] then redis.call('SET', KEYS[3], '1', 'PX', ARGV[6]) end
  return 1
end
${FENCE_FUNCTION}
local inc, rev, fresh = ARGV[7], ARGV[8], '0'
if envelope ~= '' then
  inc, rev, fresh = headerVersion(envelope)
  if inc == nil then return redis.error_reply('stratacache: not an entry envelope') end
end
return putWith(ek, fk, KEYS[3] or '', envelope, ttl, ARGV[3], inc, rev, fresh, ARGV[6], raise, ARGV[5], both[1], both[2])`;

/**
 * Many fenced puts in one script call (all keys in one hash slot): a Lua call costs Redis several microseconds, so a
 * batch fill of 100 entries pays it once, not 100 times. Every argument costs Redis a Lua string and the client an
 * encoding, so an item carries only what a cold fill needs: KEYS are entry and floor per item, plus the idle clock
 * when sliding (ARGV[1] > 0); ARGV is the window, fingerprint, raise flag, max ttl and the TTL when every item has the
 * same (shared), then per item its envelope, followed by its own TTL when the shared one is empty. The version (incarnation, rev, freshUntil) is read from the envelope's own header, and only when a floor
 * or entry is there to compare it with. Returns the 1-based positions of the items the fence kept out (usually none).
 */
export const FENCED_PUT_MANY_LUA = `${FENCE_FUNCTION}
local slide, fp, raise, maxttl, shared = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- One TTL for every item (the usual batch), or, when ARGV[5] is empty, a TTL after each envelope.
local width = shared == '' and 2 or 1
local sliding = tonumber(slide) > 0
local stride = sliding and 3 or 2
local n = #KEYS / stride
-- Every floor and entry is read up front, with one MGET per 500 items (a call inside a script costs Redis several
-- microseconds; unpack's stack bounds a chunk), so a batch of 100 costs 1 read and 100 SETs, not 200 calls.
local got = {}
for first = 0, n - 1, 500 do
  local ask = {}
  for i = first, math.min(n, first + 500) - 1 do
    ask[#ask + 1] = KEYS[i * stride + 2]
    ask[#ask + 1] = KEYS[i * stride + 1]
  end
  local part = redis.call('MGET', unpack(ask))
  for j = 1, #ask do got[first * 2 + j] = part[j] end
end
local rejected = {}
local touched = {}
for i = 0, n - 1 do
  local k = i * stride
  local ek, fk = KEYS[k + 1], KEYS[k + 2]
  local envelope, ttl = ARGV[6 + i * width], shared
  if width == 2 then ttl = ARGV[7 + i * 2] end
  local floor, cur = got[i * 2 + 1], got[i * 2 + 2]
  if touched[ek] then
    -- The same id twice in one batch: the first put may have changed its keys since the read up front.
    local both = redis.call('MGET', fk, ek)
    floor, cur = both[1], both[2]
  end
  touched[ek] = true
  if not floor and not cur and raise ~= '1' then
    -- A cold fill, the common case of a batch: putWith would do just this, after parsing nothing.
    redis.call('SET', ek, envelope, 'PX', ttl)
    if sliding then redis.call('SET', KEYS[k + 3], '1', 'PX', slide) end
  else
    local inc, rev, fresh = headerVersion(envelope)
    if inc == nil then return redis.error_reply('stratacache: not an entry envelope at item ' .. (i + 1)) end
    if putWith(ek, fk, sliding and KEYS[k + 3] or '', envelope, ttl, fp, inc, rev, fresh, slide, raise, maxttl, floor,
        cur) == 0 then
      rejected[#rejected + 1] = i + 1
    end
  end
end
return rejected`;

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
  local v = redis.pcall('GET', KEYS[i])
  if type(v) == 'table' then
    -- A key of another type (WRONGTYPE): an empty value, which decodes as corrupt — a miss the next fill replaces.
    out[#out + 1] = ''
  elseif v and redis.call('PEXPIRE', KEYS[i + 1], ARGV[1]) == 1 then
    out[#out + 1] = v
  else
    out[#out + 1] = false
  end
end
return out`;
