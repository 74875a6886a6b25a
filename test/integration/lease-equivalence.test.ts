/**
 * The in-process lease (memory-entry-leases.ts) makes exactly the Lua scripts' decisions (lease-script.ts): random
 * sequences of lease lookups, leased fills, renewals, releases, try-only leases, write-throughs that void the lease,
 * and planted lease keys (without expiry, or holding junk) run against both backends side by side; every result,
 * every read and every lease key must agree. It also checks the lease invariants on the way: one holder at a time,
 * and a fill lands only under the token that holds the lease.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocumentEntry, DocumentEntryStore } from "../../src/l2/document-entry.js";
import type { EntryLeases } from "../../src/l2/entry-lease.js";
import { idKey, leasePrefix } from "../../src/l2/key-layout.js";
import { type BackendPair, openBackendPair } from "../support/backend-pair.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true });
const FP = "0123456789ab";
const MAX_TTL = 120_000;
const TOKENS = ["token-a", "token-b"] as const;

type Op =
  | { kind: "lookup"; id: number; token: number; late: boolean }
  | { kind: "fill"; id: number; token: number; rev: number; fresh: number }
  | { kind: "writeThrough"; id: number; rev: number }
  | { kind: "renew" | "release" | "try" | "absent"; id: number; token: number }
  | { kind: "plant"; id: number; junk: boolean; expiry: boolean };

const id = fc.nat(1);
const token = fc.nat(1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("lookup" as const), id, token, late: fc.boolean() }),
  fc.record({
    kind: fc.constant("fill" as const),
    id,
    token,
    rev: fc.integer({ min: 1, max: 3 }),
    fresh: fc.nat(2),
  }),
  fc.record({ kind: fc.constant("writeThrough" as const), id, rev: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constantFrom("renew" as const, "release" as const, "try" as const, "absent" as const),
    id,
    token,
  }),
  fc.record({ kind: fc.constant("plant" as const), id, junk: fc.boolean(), expiry: fc.boolean() }),
);

interface Side {
  store: DocumentEntryStore;
  leases: EntryLeases;
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  get(key: string): Promise<string | undefined>;
  leasePrefix: string;
}

describe.skipIf(env.skip)("lease equivalence: in-process L2 and Lua", () => {
  let pair: BackendPair;
  let memory: Side;
  let redis: Side;

  beforeAll(async () => {
    const namespace = `leq:${Math.random()}`;
    pair = await openBackendPair(env.redisUrl!, "d", namespace);
    const side = ({ backend, raw }: BackendPair["memory"]): Side => {
      const ns = backend.namespace("d")!;
      return {
        set: raw.set,
        get: raw.get,
        store: ns.entries(FP, MAX_TTL),
        leases: ns.leases!(FP, MAX_TTL),
        leasePrefix: leasePrefix(namespace, FP),
      };
    };
    memory = side(pair.memory);
    redis = side(pair.redis);
  });
  afterAll(() => pair?.close());

  it("agrees on every lease decision, read and lease key; one holder at a time", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 20 }), async (ops) => {
        run++;
        const ids = [0, 1].map((n) => `00000000-0000-4000-9000-${String(run * 10 + n).padStart(12, "0")}`);
        const base = Date.now() + 60_000;
        const entry = (rev: number, fresh: number): DocumentEntry => ({
          incarnation: 1,
          rev,
          fetchedAt: base - 60_000,
          delta: 2,
          freshUntil: base + fresh * 1_000,
          body: `{"r":${rev}}`,
        });
        const apply = async (side: Side, op: Op): Promise<unknown> => {
          const key = ids[op.id]!;
          const leaseKey = idKey(side.leasePrefix, key);
          switch (op.kind) {
            case "lookup": {
              // `late`: a clock past every entry's freshness; otherwise before it.
              const [reply] = await side.leases.readOrLease(
                [key],
                TOKENS[op.token]!,
                60_000,
                base + (op.late ? 5_000 : -1),
              );
              return { state: reply!.state, rev: typeof reply!.read === "string" ? reply!.read : reply!.read.rev };
            }
            case "fill":
              return side.leases.fill([{ id: key, entry: entry(op.rev, op.fresh), ttlMs: 60_000 }], TOKENS[op.token]!);
            case "writeThrough": {
              const result = await side.store.writeThrough(key, entry(op.rev, 1), 60_000);
              await side.leases.voidLease(key);
              return result;
            }
            case "renew":
              return side.leases.renew(key, TOKENS[op.token]!, 60_000);
            case "release":
              return side.leases.release([key], TOKENS[op.token]!);
            case "try":
              return side.leases.tryLease([key], TOKENS[op.token]!, 60_000);
            case "absent":
              return side.leases.markAbsent([key], TOKENS[op.token]!, 60_000);
            case "plant":
              return side.set(leaseKey, op.junk ? "junk" : TOKENS[0], op.expiry ? 60_000 : undefined);
          }
        };
        const observe = async (side: Side) =>
          Promise.all(
            ids.map(async (key) => {
              const read = await side.store.read(key);
              return {
                read: typeof read === "string" ? read : { rev: read.rev, fresh: read.freshUntil },
                lease: await side.get(idKey(side.leasePrefix, key)),
              };
            }),
          );
        for (const [step, op] of ops.entries()) {
          const before = await observe(redis);
          const onMemory = await apply(memory, op);
          const onRedis = await apply(redis, op);
          expect(onMemory, `step ${step}: ${JSON.stringify(op)}`).toEqual(onRedis);
          const after = await observe(redis);
          expect(await observe(memory), `after step ${step}: ${JSON.stringify(op)}`).toEqual(after);
          if (op.kind === "lookup" && (onRedis as { state: string }).state === "granted") {
            // Granted only where no live lease was there; the token now holds it.
            expect(after[op.id]!.lease).toBe(TOKENS[op.token]);
          }
          if (op.kind === "fill" && (onRedis as string[])[0] === "stored") {
            expect(before[op.id]!.lease).toBe(TOKENS[op.token]); // a fill lands only under the current token
            expect(after[op.id]!.lease).toBeUndefined(); // and ends the lease
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
