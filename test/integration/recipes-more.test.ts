/**
 * The transactions, key-value, custom-l1-policy and fill-lease recipes, run for real (like a user would) on real Postgres + Redis,
 * checking the lines that carry their promises. Each recipe also throws on its own when the behaviour is not as
 * promised, so a zero exit code is itself part of the check. Their embedded runs would take the engine path
 * cache-reads already runs embedded (see EMBEDDED_RUNS in test/support/recipes.ts).
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

const recipe = runRecipe;
const servers = () => ({ DATABASE_URL: env.postgres!.url, REDIS_URL: env.redisUrl! });

const SERVER_ENGINES = /^engines: Postgres at .*; Redis at /m;

function expectTransactions(out: string) {
  const counters = (hits: number, misses: number, pg: number, fills: number, wt: number) =>
    `L2 hits=${hits} misses=${misses} +Postgres reads=${pg} +fills=${fills} +write-throughs=${wt}`;
  expect(out).toMatch(new RegExp(`get alice, get bob → misses.* ${counters(0, 2, 2, 2, 0)}`));
  expect(out).toMatch(
    new RegExp(`in tx: update alice → 70 \\(rev 2\\), bob → 80 \\(rev 2\\).* ${counters(0, 2, 2, 2, 0)}`),
  );
  expect(out).toMatch(new RegExp(`in tx: get alice → 70 \\(rev 2\\) from Postgres.* ${counters(0, 2, 3, 2, 0)}`));
  expect(out).toMatch(
    new RegExp(`outside, meanwhile: get alice → 100 \\(rev 1\\), L2 hit.* ${counters(1, 2, 3, 2, 0)}`),
  );
  expect(out).toMatch(new RegExp(`COMMIT → .* ${counters(1, 2, 3, 2, 2)}`));
  expect(out).toMatch(new RegExp(`get alice → 70 \\(rev 2\\), get bob → 80 \\(rev 2\\).* ${counters(3, 2, 3, 2, 2)}`));
  expect(out).toMatch(new RegExp(`get carol → 25 \\(rev 1\\).* ${counters(3, 3, 4, 3, 2)}`));
  expect(out).toMatch(
    new RegExp(`in tx: update alice → -430 \\(rev 3\\), create dave; in-tx get → -430 .*${counters(3, 3, 5, 3, 2)}`),
  );
  expect(out).toMatch(/ROLLBACK → rethrown as is: InsufficientFunds: alice would be at -430/);
  expect(out).toMatch(
    new RegExp(`get alice → 70 \\(rev 2\\): L2 hit, the cache was never touched .*${counters(4, 3, 5, 3, 2)}`),
  );
  expect(out).toMatch(
    new RegExp(`get alice \\{ skipCache: true \\} → 70 \\(rev 2\\): Postgres agrees .*${counters(4, 3, 6, 3, 2)}`),
  );
  expect(out).toMatch(/find dave → undefined: its create rolled back too/);
}

function expectKeyValue(out: string) {
  expect(out).toMatch(/sessions\.get\("sess:7f3a"\) +→ \{"userId":42,"roles":\["admin"\],"csrf":"c9f1"\}/);
  expect(out).toMatch(/sessions\.getMany\(\["sess:7f3a", "sess:gone", "sess:9c1d"\]\) +→ \[42, undefined, 43\]/);
  expect(out).toMatch(/sessions\.exists\("sess:7f3a"\), exists\("sess:gone"\) +→ \[true, false\]/);
  expect(out).toMatch(/sessions\.delete\("sess:9c1d"\) twice +→ \[true, false\]/);
  expect(out).toMatch(/flags\.getMany\(.*\) +→ \[true, \{"enabled":true,"rollout":0\.25\}, 50, undefined\]/);
  expect(out).toMatch(/flags\.deleteMany\(.*\) +→ 2 /);
  expect(out).toMatch(/perUser\.set\("avatar:42", Uint8Array\), get +→ Uint8Array\(6\) \[137, 80, 78, 71, 13, 10\]/);
  expect(out).toMatch(/perUser\.set\("avatar:43", Buffer\.from\("GIF89a"\)\), get +→ Uint8Array\(6\) /);
  expect(out).toMatch(/"seenAt":"1970-01-01T00:00:00\.000Z"\} — JSON rules/);
  expect(out).toMatch(/5 requests from 203\.0\.113\.7.* +→ allowed, allowed, allowed, refused, refused/);
  expect(out).toMatch(/after 1\.\d s: limits\.exists\("rl:203\.0\.113\.7"\), get +→ \[false, undefined\] — expired/);
  expect(out).toMatch(/meanwhile sessions\.get\("sess:7f3a"\) \(ttl 30m\) +→ 42 — still there/);
  expect(out).toMatch(/request from 203\.0\.113\.7 again +→ allowed \(count 1\)/);
  expect(out).toMatch(
    /ttl: "5 minutes" \}\) +→ ConfigurationError code=CONFIGURATION: ttl must be a duration .*; written: false/,
  );
  expect(out).toMatch(/\["b", 10n\]\]\) +→ ValidationError code=VALIDATION: .*BigInt; written: false/);
  expect(out).toMatch(/ctx\.cache\("carts"\) +→ ConfigurationError code=CONFIGURATION: caches\.carts has no route/);
  expect(out).toMatch(/cleanup: deleteMany removed 7 keys/);
}

function expectCustomL1Policy(out: string) {
  expect(out).toMatch(/lru {2}set d → evicts b, .*get b → undefined +size=3\/3 hits=1 misses=1 evictions=1 /);
  expect(out).toMatch(/lru {2}set a, ttlMs 2000 .*get a → undefined +size=2\/3 .* expirations=1 /);
  expect(out).toMatch(/lru {2}invalidate d twice → true, false +.* invalidations=1 /);
  expect(out).toMatch(/lru {5}16 hot keys ×5, scan of 256, hot again → 0\/16 hits/);
  expect(out).toMatch(/tinylfu 16 hot keys ×5, scan of 256, hot again → 16\/16 hits/);
  expect(out).toMatch(/first use → factory called 1× with \{ capacity: 8, ttlMs: 30000, now: function \}/);
  expect(out).toMatch(
    /get #1 → .*store calls: get=1 set=1 invalidate=1 +L1 hits=0 misses=1 +L2 hits=0 misses=1 +Postgres reads=1/,
  );
  expect(out).toMatch(
    /get ×10 → .*store calls: get=11 set=1 invalidate=1 +L1 hits=10 misses=1 +L2 hits=0 misses=1 +Postgres reads=1/,
  );
  expect(out).toMatch(/update → .*store calls: get=11 set=1 invalidate=2 /);
  expect(out).toMatch(
    /get → price 12 \(rev 2\): .*store calls: get=12 set=2 invalidate=2 +L1 hits=10 misses=2 +L2 hits=1/,
  );
  expect(out).toMatch(/get Y → .*L1 size=1\/1 hits=1 misses=2 evictions=1 +L2 hits=0 misses=2 +Postgres reads=2/);
  expect(out).toMatch(/get X → L1 miss, L2 hit; X replaces Y +L1 size=1\/1 hits=1 misses=3 evictions=2 +L2 hits=1 /);
  expect(out).toMatch(/first use → ConfigurationError: policy factory must return an L1Store/);
}

describe("transactions recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("transactions", servers());
      expect(out).toMatch(SERVER_ENGINES);
      expectTransactions(out);
    },
    90_000,
  );
});

describe("key-value recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("key-value", servers());
      expect(out).toMatch(SERVER_ENGINES);
      expect(out).toMatch(/^cache sessions +backend=redis /m);
      expectKeyValue(out);
    },
    90_000,
  );
});

describe("custom-l1-policy recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis",
    async () => {
      const out = await recipe("custom-l1-policy", servers());
      expect(out).toMatch(SERVER_ENGINES);
      expectCustomL1Policy(out);
    },
    90_000,
  );
});

describe("fill-lease recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and Redis: one Postgres read per cold key across four replicas",
    async () => {
      const out = await recipe("fill-lease", servers());
      expect(out).toMatch(/^engines: Postgres at .*; Redis [\d.]+ at /m);
      expect(out).toMatch(/^lease off: 4 replicas × 250 concurrent gets of one cold key → [2-4] Postgres read\(s\)$/m);
      expect(out).toMatch(/^lease on : 4 replicas × 250 concurrent gets of one cold key → 1 Postgres read\(s\)$/m);
      expect(out).toMatch(/^ +lease stats: granted=1 waits=3 holderTimeouts=0 fallbacks=0$/m);
      expect(out).toMatch(/^lease off: 4 replicas × getMany of 30 cold ids → (6\d|[7-9]\d|1[01]\d|120) ids read/m);
      expect(out).toMatch(/^lease on : 4 replicas × getMany of 30 cold ids → 30 ids read from Postgres$/m);
      expect(out).toMatch(/^lease off: 4 replicas × 250 concurrent getOrSet of one cold key → [2-4] loader run\(s\)$/m);
      expect(out).toMatch(/^lease on : 4 replicas × 250 concurrent getOrSet of one cold key → 1 loader run\(s\)$/m);
      expect(out).toMatch(/^ +lease stats: granted=1 waits=3 holderTimeouts=0 fallbacks=0\n(?![\s\S]*lease stats)/m);
    },
    90_000,
  );
});
