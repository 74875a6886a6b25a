/**
 * The cache API's in-process leases (MemoryKeyValueStore.leases) make exactly the Lua scripts' decisions
 * (KV_READ_OR_LEASE_LUA, KV_WRITE_LUA's fill mode, lease-script.ts): random sequences of leased lookups (fresh,
 * stale and missing entries), leased fills, sets, deletes, pulls, releases, renewals, try-only leases, absent
 * markers and clears run against both stores side by side; every result, every entry and every lease key must
 * agree. On the way: a fill lands only under the token that holds the lease, and a set or delete voids it.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvLeasePrefix } from "../../src/l2/key-layout.js";
import type { KeyValueStore } from "../../src/l2/key-value-store.js";
import { type BackendPair, openBackendPair } from "../support/backend-pair.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true });
const TOKENS = ["token-a", "token-b"] as const;
const KEYS = ["k0", "k1"] as const;

type Op =
  | { kind: "lookup"; key: number; token: number; late: boolean }
  | { kind: "fill"; key: number; token: number; value: number; fresh: boolean }
  | { kind: "set" | "delete" | "pull" | "clear"; key: number }
  | { kind: "renew" | "release" | "try" | "absent"; key: number; token: number };

const key = fc.integer({ min: 0, max: 1 });
const token = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("lookup" as const), key, token, late: fc.boolean() }),
  fc.record({
    kind: fc.constant("fill" as const),
    key,
    token,
    value: fc.integer({ min: 1, max: 9 }),
    fresh: fc.boolean(),
  }),
  fc.record({ kind: fc.constantFrom("set" as const, "delete" as const, "pull" as const, "clear" as const), key }),
  fc.record({
    kind: fc.constantFrom("renew" as const, "release" as const, "try" as const, "absent" as const),
    key,
    token,
  }),
);

interface Side {
  store: KeyValueStore;
  get(key: string): Promise<string | undefined>;
}

describe.skipIf(env.skip)("key/value lease equivalence: in-process and Lua", () => {
  let pair: BackendPair;
  let memory: Side;
  let redis: Side;
  let leasePrefix: string;

  beforeAll(async () => {
    const namespace = `kleq:${Math.random()}`;
    leasePrefix = kvLeasePrefix(namespace);
    pair = await openBackendPair(env.redisUrl!, "c", namespace);
    memory = { store: pair.memory.backend.namespace("c")!.keyValues(), get: pair.memory.raw.get };
    redis = { store: pair.redis.backend.namespace("c")!.keyValues(), get: pair.redis.raw.get };
  });
  afterAll(() => pair?.close());

  it("agrees on every lease decision, entry and lease key; fills land only under the current token", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 20 }), async (ops) => {
        for (const side of [memory, redis]) await side.store.remove([...KEYS]);
        for (const side of [memory, redis]) {
          for (const k of KEYS) for (const t of TOKENS) await side.store.leases!.release(k, t);
        }
        const base = Date.now() + 60_000;
        const apply = async (side: Side, op: Op): Promise<unknown> => {
          const k = KEYS[op.key]!;
          const leases = side.store.leases!;
          switch (op.kind) {
            case "lookup": {
              const [read] = await leases.readOrLease([k], [TOKENS[op.token]!], 60_000, base + (op.late ? 5_000 : -1));
              return { state: read!.state, value: read!.entry?.value.toString() };
            }
            case "fill":
              return leases.fill(
                { key: k, value: Buffer.from(`j${op.value}`), ttlMs: 60_000, freshUntil: op.fresh ? base + 1_000 : 0 },
                TOKENS[op.token]!,
              );
            case "set":
              return side.store.write([{ key: k, value: Buffer.from("j0"), ttlMs: 60_000, freshUntil: base + 1_000 }]);
            case "delete":
              return side.store.remove([k]);
            case "pull":
              return (await side.store.pull(k))?.value.toString();
            case "clear":
              return side.store.clear();
            case "renew":
              return leases.renew(k, TOKENS[op.token]!, 60_000);
            case "release":
              return leases.release(k, TOKENS[op.token]!);
            case "try":
              return leases.tryLease(k, TOKENS[op.token]!, 60_000);
            case "absent":
              return leases.markAbsent(k, TOKENS[op.token]!, 60_000);
          }
        };
        const observe = (side: Side) =>
          Promise.all(
            KEYS.map(async (k) => ({
              value: (await side.store.read([k]))[0]?.value.toString(),
              lease: await side.get(leasePrefix + k),
            })),
          );
        for (const [step, op] of ops.entries()) {
          const before = await observe(redis);
          const onMemory = await apply(memory, op);
          const onRedis = await apply(redis, op);
          expect(onMemory, `step ${step}: ${JSON.stringify(op)}`).toEqual(onRedis);
          const after = await observe(redis);
          expect(await observe(memory), `after step ${step}: ${JSON.stringify(op)}`).toEqual(after);
          if (op.kind === "fill" && onRedis === "stored") {
            expect(before[op.key]!.lease).toBe(TOKENS[op.token]); // a fill lands only under the current token
            expect(after[op.key]!.lease).toBeUndefined(); // and ends the lease
          }
          if (op.kind === "set" || op.kind === "delete" || op.kind === "pull") {
            expect(after[op.key]!.lease).toBeUndefined(); // a write voids the lease
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
