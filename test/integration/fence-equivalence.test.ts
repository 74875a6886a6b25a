/**
 * The in-process L2 makes exactly the Lua fence's decisions (fence-script.ts): random sequences of fills,
 * write-throughs, tombstones, clears, evictions and planted bytes (garbled, without a TTL, with an over-long TTL)
 * run against both stores side by side, and every result, every read and every version floor must agree.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocumentEntry, DocumentEntryStore } from "../../src/l2/document-entry.js";
import { encodeEntry } from "../../src/l2/entry-envelope.js";
import { idKey, versionFloorPrefix } from "../../src/l2/key-layout.js";
import { type BackendPair, openBackendPair } from "../support/backend-pair.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true });
const FP = "0123456789ab";
const MAX_TTL = 120_000;
const HOUR = 3_600_000;

type Op =
  | { kind: "put" | "writeThrough"; id: number; inc: number; rev: number; fresh: number }
  | { kind: "putMany"; items: Array<{ id: number; inc: number; rev: number; fresh: number }> }
  | { kind: "tombstone"; id: number; inc: number }
  | { kind: "clear"; id: number; inc: number; rev: number }
  | { kind: "evict"; id: number }
  | { kind: "plantEntry"; id: number; bytes: number; ttl: "none" | "long" | "ok" }
  | { kind: "plantFloor"; id: number; bytes: number; ttl: "none" | "long" | "ok" };

const id = fc.nat(1);
const inc = fc.integer({ min: 1, max: 2 });
const rev = fc.integer({ min: 1, max: 3 });
const fresh = fc.integer({ min: 0, max: 2 });
const ttl = fc.constantFrom("none" as const, "long" as const, "ok" as const);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("put" as const, "writeThrough" as const), id, inc, rev, fresh }),
  // A batch of one to three: the same id may come twice, and a cold item may sit beside one the fence compares.
  fc.record({
    kind: fc.constant("putMany" as const),
    items: fc.array(fc.record({ id, inc, rev, fresh }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("tombstone" as const), id, inc }),
  fc.record({ kind: fc.constant("clear" as const), id, inc, rev }),
  fc.record({ kind: fc.constant("evict" as const), id }),
  fc.record({ kind: fc.constant("plantEntry" as const), id, bytes: fc.nat(5), ttl }),
  fc.record({ kind: fc.constant("plantFloor" as const), id, bytes: fc.nat(5), ttl }),
);

interface Side {
  store: DocumentEntryStore;
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  get(key: string): Promise<string | undefined>;
  del(key: string): Promise<void>;
  entryPrefix: string;
  floorPrefix: string;
}

describe.skipIf(env.skip)("fence equivalence: in-process L2 and Lua", () => {
  let pair: BackendPair;
  let memory: Side;
  let redis: Side;

  beforeAll(async () => {
    const namespace = `feq:${Math.random()}`;
    pair = await openBackendPair(env.redisUrl!, "d", namespace);
    const side = ({ backend, raw }: BackendPair["memory"]): Side => {
      const ns = backend.namespace("d")!;
      return {
        ...raw,
        store: ns.entries(FP, MAX_TTL),
        entryPrefix: ns.entryPrefix(FP),
        floorPrefix: versionFloorPrefix(namespace, FP),
      };
    };
    memory = side(pair.memory);
    redis = side(pair.redis);
  });
  afterAll(() => pair?.close());

  it("agrees on every decision, read and floor", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 20 }), async (ops) => {
        run++;
        const ids = [0, 1].map((n) => `00000000-0000-4000-8000-${String(run * 10 + n).padStart(12, "0")}`);
        const base = Date.now() + 60_000;
        const entry = (i: number, r: number, f: number): DocumentEntry => ({
          incarnation: i,
          rev: r,
          fetchedAt: base - 60_000,
          delta: 2,
          freshUntil: base + f * 1_000,
          body: `{"r":${r}}`,
        });
        const entryBytes = [
          encodeEntry(FP, entry(2, 9, 0)), // well-formed, newer than anything the ops write
          encodeEntry(FP, entry(2, 2, 1)),
          `s1|${FP}|9|9T|1|1|${base}|{}`, // garbled rev
          `s1|${FP}|9|9|1|1|${base}|`, // no body
          `s1|${FP}|2|T|1|0|0|`, // a tombstone
          "junk",
        ];
        const floorBytes = ["9|T", "2|2", "3|1", "9|x", "junk", "1|T"];
        const ttlOf = (t: "none" | "long" | "ok") => (t === "none" ? undefined : t === "long" ? HOUR : 60_000);
        const apply = async (side: Side, op: Op): Promise<unknown> => {
          if (op.kind === "putMany") {
            return side.store.putMany(
              op.items.map((item) => ({
                id: ids[item.id]!,
                entry: entry(item.inc, item.rev, item.fresh),
                ttlMs: 60_000,
              })),
            );
          }
          const key = ids[op.id]!;
          switch (op.kind) {
            case "put":
              return side.store.put(key, entry(op.inc, op.rev, op.fresh), 60_000);
            case "writeThrough":
              return side.store.writeThrough(key, entry(op.inc, op.rev, op.fresh), 60_000);
            case "tombstone":
              return side.store.tombstone(key, op.inc, MAX_TTL);
            case "clear":
              return side.store.clear(key, op.inc, op.rev, MAX_TTL);
            case "evict":
              return side.del(idKey(side.entryPrefix, key));
            case "plantEntry":
              return side.set(idKey(side.entryPrefix, key), entryBytes[op.bytes]!, ttlOf(op.ttl));
            case "plantFloor":
              return side.set(idKey(side.floorPrefix, key), floorBytes[op.bytes]!, ttlOf(op.ttl));
          }
        };
        const observe = async (side: Side) =>
          Promise.all(
            ids.map(async (key) => {
              const read = await side.store.read(key);
              return {
                read:
                  typeof read === "string" ? read : { inc: read.incarnation, rev: read.rev, fresh: read.freshUntil },
                floor: await side.get(idKey(side.floorPrefix, key)),
              };
            }),
          );
        for (const [step, op] of ops.entries()) {
          const onMemory = await apply(memory, op);
          const onRedis = await apply(redis, op);
          expect(onMemory, `step ${step}: ${JSON.stringify(op)}`).toEqual(onRedis);
          expect(await observe(memory), `after step ${step}: ${JSON.stringify(op)}`).toEqual(await observe(redis));
        }
      }),
      {
        numRuns: 300,
        examples: [
          // An over-long entry of the same version is replaced by a less fresh put of it; a no-TTL floor is dropped.
          [
            [
              { kind: "plantEntry", id: 0, bytes: 1, ttl: "long" },
              { kind: "put", id: 0, inc: 2, rev: 2, fresh: 0 },
              { kind: "plantFloor", id: 1, bytes: 0, ttl: "none" },
              { kind: "put", id: 1, inc: 1, rev: 1, fresh: 0 },
            ],
          ],
        ],
      },
    );
  });
});
