/**
 * The Lua behind Redis locks and rate limits: each operation is one script, one round trip, on keys of one hash
 * slot (a lock and its fence counter share the `{key}` tag). Numbers cross as strings formatted with %.0f: every
 * value is an integer below 2^53, which a Lua double holds exactly.
 */

/**
 * KEYS: lock, fence counter. ARGV: owner, ttl ms, counter ttl ms. Returns {1, token} when taken, else {0, pttl}.
 * The token is max(counter + 1, server time in µs) (lock-store.ts, FENCING_TOKENS).
 */
export const LOCK_ACQUIRE_LUA = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2])) or 0
local token = math.max(last + 1, now)
local s = string.format('%.0f', token)
redis.call('SET', KEYS[2], s, 'PX', ARGV[3])
return {1, s}`;

/** KEYS: lock. ARGV: owner. 1 when it owned the lock and freed it. */
export const LOCK_RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS: lock. ARGV: owner, ttl ms. 1 when it owned the lock and restarted its lifetime. */
export const LOCK_EXTEND_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** KEYS: lock. ARGV: owner. The remaining ms when it owns the lock, else 0. */
export const LOCK_HELD_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return math.max(1, redis.call('PTTL', KEYS[1])) end
return 0`;

/**
 * rate-limit-model.ts' \`step\`, line for line. KEYS: state. ARGV: algorithm, limit, window ms, cost, now ms, "1" to
 * record. The state is "a:b[:c]"; it is kept until it would normalise to empty, plus 1 s of slack
 * (RATE_STATE_SLACK_MS). Returns {allowed 1/0, state parts…}.
 */
export const RATE_LIMIT_LUA = `
local function floorDiv(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
  return q
end
local alg, L, W, cost, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local consume = ARGV[6] == '1'
local raw = redis.call('GET', KEYS[1])
local s = {}
if raw then for part in string.gmatch(raw, '[^:]+') do s[#s + 1] = tonumber(part) end end
local allowed, ttl
if alg == 'gcra' then
  local tat, frac = s[1] or 0, s[2] or 0
  if tat < now then tat, frac = now, 0 end
  local total = frac + cost * W
  local whole = floorDiv(total, L)
  local ntat, nfrac = tat + whole, total - whole * L
  allowed = ntat < now + W or (ntat == now + W and nfrac == 0)
  if allowed and consume then tat, frac = ntat, nfrac end
  s = {tat, frac}
  ttl = math.max(1, tat - now + 1) + 1000
else
  local w = floorDiv(now, W)
  local cur, prev = 0, 0
  if s[1] == w then cur, prev = s[2] or 0, s[3] or 0 elseif s[1] == w - 1 then prev = s[2] or 0 end
  if alg == 'fixed' then
    allowed = cur + cost <= L
    if allowed and consume then cur = cur + cost end
    s = {w, cur}
    ttl = (w + 1) * W - now + 1000
  else
    local elapsed = now - w * W
    allowed = prev * (W - elapsed) + (cur + cost) * W <= L * W
    if allowed and consume then cur = cur + cost end
    s = {w, cur, prev}
    ttl = (w + 2) * W - now + 1000
  end
end
local out = {allowed and 1 or 0}
for i = 1, #s do out[i + 1] = string.format('%.0f', s[i]) end
if allowed and consume then
  redis.call('SET', KEYS[1], table.concat(out, ':', 2), 'PX', string.format('%.0f', ttl))
end
return out`;
