/**
 * The versioned-entry contract, run against both backends: the Lua fence in a real Redis and the in-process store.
 * Versions are (incarnation, rev); a tombstone fences every fill of its incarnation; corrupt bytes are misses that
 * the next write replaces.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock.js";
import { silentLogger } from "../../src/kernel/logger.js";
import type { CacheBackend } from "../../src/l2/cache-backend.js";
import type { DocumentEntry, DocumentEntryStore } from "../../src/l2/document-entry.js";
import { encodeEntry } from "../../src/l2/entry-envelope.js";
import { idKey, idleClockPrefix, versionFloorPrefix } from "../../src/l2/key-layout.js";
import { memoryCacheModule } from "../../src/runtime/modules/memory-cache-module.js";
import { redisModule } from "../../src/runtime/modules/redis-module.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true });
const FP = "abcdef012345";
/** The longest TTL the `bounded` store writes. */
const MAX_TTL = 120_000;

function entry(
  incarnation: number,
  rev: number,
  freshUntil = Date.now() + 60_000,
  body = `{"rev":${rev}}`,
): DocumentEntry {
  return { incarnation, rev, fetchedAt: Date.now(), delta: 3, freshUntil, body };
}

type Backend = {
  name: string;
  open(): Promise<{
    backend: CacheBackend;
    raw(key: string, value: string): Promise<void>;
    evict(key: string): Promise<void>;
    /** Plants bytes as an operator or attacker would: `ttlMs` undefined means no expiry at all. */
    plant(key: string, value: string, ttlMs: number | undefined): Promise<void>;
    pttl(key: string): Promise<number>;
    get(key: string): Promise<string | undefined>;
  }>;
};

const backends: Backend[] = [
  {
    name: "memory",
    async open() {
      const backend = await memoryCacheModule({ caches: { products: { namespace: `mem${Math.random()}` } } })
        .open({
          logger: silentLogger,
          clock: systemClock,
        })
        .then((opened) => opened.backend);
      const keyspace = (
        backend as unknown as {
          keyspace: {
            set(k: string, v: string, t: number): void;
            delete(k: string): boolean;
            get(k: string): string | Buffer | undefined;
            pttl(k: string): number;
          };
        }
      ).keyspace;
      return {
        backend,
        raw: async (key, value) => keyspace.set(key, value, 60_000),
        evict: async (key) => void keyspace.delete(key),
        plant: async (key, value, ttlMs) => keyspace.set(key, value, ttlMs ?? Number.POSITIVE_INFINITY),
        pttl: async (key) => keyspace.pttl(key),
        get: async (key) => keyspace.get(key)?.toString(),
      };
    },
  },
  {
    name: "redis",
    async open() {
      const url = env.redisUrl as string;
      const backend = await redisModule({ url, caches: { products: { namespace: `l2t:${Math.random()}` } } })
        .open({
          logger: silentLogger,
          clock: systemClock,
        })
        .then((opened) => opened.backend);
      const raw = new Redis(url);
      opened.push(async () => raw.quit().then(() => undefined));
      return {
        backend,
        raw: async (key, value) => void (await raw.set(key, value, "PX", 60_000)),
        evict: async (key) => void (await raw.del(key)),
        plant: async (key, value, ttlMs) =>
          void (ttlMs === undefined ? await raw.set(key, value) : await raw.set(key, value, "PX", ttlMs)),
        pttl: async (key) => raw.pttl(key),
        get: async (key) => (await raw.get(key)) ?? undefined,
      };
    },
  },
];
const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of opened) await close();
});

describe.skipIf(env.skip).each(backends)("document entries on $name", (kind) => {
  let store: DocumentEntryStore;
  let raw: (key: string, value: string) => Promise<void>;
  let evict: (key: string) => Promise<void>;
  let plant: (key: string, value: string, ttlMs: number | undefined) => Promise<void>;
  let pttl: (key: string) => Promise<number>;
  let get: (key: string) => Promise<string | undefined>;
  let prefix: string;
  /** The same document's store as a runtime opens it: it knows the longest TTL it ever writes. */
  let bounded: DocumentEntryStore;
  let floorKey: (id: string) => string;
  let clockKey: (id: string) => string;

  beforeAll(async () => {
    const opened_ = await kind.open();
    opened.push(() => opened_.backend.close());
    const namespace = opened_.backend.namespace("products");
    if (!namespace) throw new Error("no namespace");
    store = namespace.entries(FP);
    prefix = namespace.entryPrefix(FP);
    raw = opened_.raw;
    evict = opened_.evict;
    plant = opened_.plant;
    pttl = opened_.pttl;
    get = opened_.get;
    bounded = namespace.entries(FP, MAX_TTL);
    floorKey = (id) => idKey(versionFloorPrefix(namespace.namespace, FP), id);
    clockKey = (id) => idKey(idleClockPrefix(namespace.namespace, FP), id);
  });

  const fresh = () => `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, "0")}`;

  it("stores, reads back, and reports a miss for an absent id", async () => {
    const id = fresh();
    expect(await store.read(id)).toBe("miss");
    expect(await store.put(id, entry(1, 1), 60_000)).toBe("stored");
    const read = await store.read(id);
    expect(read).toMatchObject({ incarnation: 1, rev: 1, delta: 3, body: '{"rev":1}' });
  });

  it("never lets an older rev overwrite a newer one, and lets a newer one in", async () => {
    const id = fresh();
    await store.put(id, entry(1, 3), 60_000);
    expect(await store.put(id, entry(1, 2), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(1, 4), 60_000)).toBe("stored");
    expect(await store.read(id)).toMatchObject({ rev: 4 });
  });

  it("lets an equal version in only to extend freshness", async () => {
    const id = fresh();
    const now = Date.now();
    await store.put(id, entry(1, 2, now + 10_000), 60_000);
    expect(await store.put(id, entry(1, 2, now + 5_000), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(1, 2, now + 20_000), 60_000)).toBe("stored");
    expect(await store.read(id)).toMatchObject({ rev: 2, freshUntil: now + 20_000 });
  });

  it("a tombstone fences every fill of its incarnation, and a new incarnation replaces it", async () => {
    const id = fresh();
    await store.put(id, entry(5, 7), 60_000);
    expect(await store.tombstone(id, 5, 60_000)).toBe("stored");
    expect(await store.read(id)).toBe("tombstone");
    expect(await store.put(id, entry(5, 7), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(5, 99), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(4, 100), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(6, 1), 60_000)).toBe("stored");
    expect(await store.read(id)).toMatchObject({ incarnation: 6, rev: 1 });
    // A late tombstone of the old life does not erase the new one.
    expect(await store.tombstone(id, 5, 60_000)).toBe("rejected");
  });

  it("stores fractional times (an age-based lifetime, a fractional clock) as whole milliseconds, readable back", async () => {
    const id = fresh();
    const now = Date.now() + 0.37;
    const fractional: DocumentEntry = {
      incarnation: 1,
      rev: 1,
      fetchedAt: now,
      delta: 0.4,
      freshUntil: now + 0.1 * 18_000_003,
      body: "{}",
    };
    expect(await store.put(id, fractional, 60_000)).toBe("stored");
    expect(await store.read(id)).toMatchObject({
      fetchedAt: Math.floor(now),
      delta: 1,
      freshUntil: Math.floor(now + 0.1 * 18_000_003),
    });
  });

  it("keeps fencing stale fills after a write-through's entry is evicted (the version floor)", async () => {
    const id = fresh();
    await store.put(id, entry(1, 1), 60_000);
    expect(await store.writeThrough(id, entry(1, 2), 60_000)).toBe("stored");
    await evict(idKey(prefix, id));
    expect(await store.read(id)).toBe("miss");
    // A reader that fetched rev 1 before the write committed now tries to fill: the floor says rev 2 was written.
    expect(await store.put(id, entry(1, 1), 60_000)).toBe("rejected");
    expect(await store.put(id, entry(1, 2), 60_000)).toBe("stored");
    expect(await store.read(id)).toMatchObject({ rev: 2 });
    // Plain fills never raise the floor: after evicting a filled rev 3, a rev-2 fill may land (no writer wrote 3).
    expect(await store.put(id, entry(1, 3), 60_000)).toBe("stored");
    await evict(idKey(prefix, id));
    expect(await store.put(id, entry(1, 2), 60_000)).toBe("stored");
  });

  it("keeps fencing fills of a deleted incarnation after its tombstone is evicted", async () => {
    const id = fresh();
    await store.put(id, entry(3, 4), 60_000);
    expect(await store.tombstone(id, 3, 60_000)).toBe("stored");
    await evict(idKey(prefix, id));
    expect(await store.putMany([{ id, entry: entry(3, 4), ttlMs: 60_000 }])).toEqual(["rejected"]);
    expect(await store.put(id, entry(4, 1), 60_000)).toBe("stored");
  });

  it("treats garbage, old formats, truncation and foreign fingerprints as corrupt, and overwrites them", async () => {
    const cases = [
      "\u0000\u00ff garbage",
      `s0|${FP}|1|1|1|1|1|{}`,
      `s1|${FP}|1|1|1|1`,
      `s1|zzzzzzzzzzzz|1|9|1|1|${Date.now() + 60_000}|{}`,
      `s1|${FP}|x|1|1|1|1|{}`,
    ];
    for (const bytes of cases) {
      const id = fresh();
      await raw(idKey(prefix, id), bytes);
      expect(await store.read(id), bytes).toBe("corrupt");
      expect(await store.put(id, entry(1, 1), 60_000), bytes).toBe("stored");
      expect(await store.read(id)).toMatchObject({ rev: 1 });
    }
  });

  it("reads many in order, mixing hits, misses and corrupt entries", async () => {
    const a = fresh();
    const b = fresh();
    const c = fresh();
    await store.put(a, entry(1, 1), 60_000);
    await raw(idKey(prefix, c), "junk");
    const reads = await store.readMany([b, a, c, a]);
    expect(reads[0]).toBe("miss");
    expect(reads[1]).toMatchObject({ rev: 1 });
    expect(reads[2]).toBe("corrupt");
    expect(reads[3]).toMatchObject({ rev: 1 });
  });

  it("puts many, each through the fence", async () => {
    const a = fresh();
    const b = fresh();
    await store.put(a, entry(1, 5), 60_000);
    const results = await store.putMany([
      { id: a, entry: entry(1, 4), ttlMs: 60_000 },
      { id: b, entry: entry(1, 1), ttlMs: 60_000 },
    ]);
    expect(results).toEqual(["rejected", "stored"]);
    expect(await store.readMany([a, b])).toMatchObject([{ rev: 5 }, { rev: 1 }]);
  });

  it("puts many as if one by one: the same id twice in a batch, and a batch wider than one read chunk", async () => {
    const twice = fresh();
    expect(
      await store.putMany([
        { id: twice, entry: entry(1, 2), ttlMs: 60_000 },
        { id: twice, entry: entry(1, 1), ttlMs: 60_000 },
      ]),
    ).toEqual(["stored", "rejected"]);
    expect(await store.read(twice)).toMatchObject({ rev: 2 });
    // 1,200 items: the script reads floors and entries up front in chunks; every third is already newer in L2.
    const ids = Array.from({ length: 1_200 }, () => fresh());
    for (let i = 0; i < ids.length; i += 3) await store.put(ids[i]!, entry(1, 9), 60_000);
    const results = await store.putMany(ids.map((id) => ({ id, entry: entry(1, 3), ttlMs: 60_000 })));
    expect(results).toEqual(ids.map((_, i) => (i % 3 === 0 ? "rejected" : "stored")));
    expect((await store.readMany(ids)).map((read) => (typeof read === "string" ? read : read.rev))).toEqual(
      ids.map((_, i) => (i % 3 === 0 ? 9 : 3)),
    );
  });

  it("gives each item of a batch its own TTL, shared or not", async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await store.putMany([a, b].map((id) => ({ id, entry: entry(1, 1), ttlMs: 20_000 })));
    await store.putMany([
      { id: c, entry: entry(1, 1), ttlMs: 5_000 },
      { id: a, entry: entry(1, 2), ttlMs: 50_000 },
    ]);
    const left = await Promise.all([a, b, c].map((id) => pttl(`${prefix}{${id}}`)));
    expect(left[0]).toBeGreaterThan(20_000); // a's second put: its own 50 s, not c's 5 s
    expect(left[0]).toBeLessThanOrEqual(50_000);
    expect(left[1]).toBeGreaterThan(5_000);
    expect(left[1]).toBeLessThanOrEqual(20_000);
    expect(left[2]).toBeGreaterThan(0);
    expect(left[2]).toBeLessThanOrEqual(5_000);
  });

  it("starts every item's idle clock when a batch is put sliding: cold items, compared ones, and rejected ones not", async () => {
    const [cold, older, newer] = [fresh(), fresh(), fresh()];
    await store.put(older, entry(1, 1), 60_000);
    await store.put(newer, entry(1, 9), 60_000);
    const results = await store.putMany(
      [cold, older, newer].map((id) => ({ id, entry: entry(1, 2), ttlMs: 60_000 })),
      5_000,
    );
    expect(results).toEqual(["stored", "stored", "rejected"]);
    for (const id of [cold, older]) {
      const left = await pttl(clockKey(id));
      expect(left, id === cold ? "cold item" : "compared item").toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(5_000);
    }
    expect(await pttl(clockKey(newer))).toBeLessThan(0); // kept out: its (never started) clock is left alone
    expect(await store.readMany([cold, older, newer], 5_000)).toMatchObject([{ rev: 2 }, { rev: 2 }, "miss"]);
  });

  it("keeps the body opaque: a body containing the separator round-trips", async () => {
    const id = fresh();
    const body = '{"name":"a|b|c","price":1}';
    await store.put(id, entry(2, 1, Date.now() + 60_000, body), 60_000);
    expect(await store.read(id)).toMatchObject({ body });
    expect(encodeEntry(FP, entry(2, 1, 1, body)).endsWith(body)).toBe(true);
  });

  it("reads many as it reads one: multi-byte bodies, separators in bodies, garbled headers, tombstones", async () => {
    // The batch read decodes Redis' bytes, the single read a string (entry-envelope.ts): same answers.
    const bodies = ['{"name":"a|b|c"}', '{"name":"déjà vu ✓ 𝄞"}', '{"n":"|"}|'];
    const ids = bodies.map(() => fresh());
    for (const [i, body] of bodies.entries()) await store.put(ids[i]!, entry(1, 1, Date.now() + 60_000, body), 60_000);
    const planted = [`s1|${FP}|9|0|1|1|1|{}`, `s1|${FP}x|9|1|1|1|1|{}`, `s1|${FP}|9|99|1|1|1|`, "s1|é|1|1|1|1|1|{}"];
    for (const bytes of planted) {
      const id = fresh();
      await raw(idKey(prefix, id), bytes);
      ids.push(id);
    }
    const gone = fresh();
    await store.put(gone, entry(1, 1), 60_000);
    await store.tombstone(gone, 1, 60_000);
    ids.push(gone, fresh());
    const one = await Promise.all(ids.map((id) => store.read(id)));
    expect(one.slice(0, 3).map((read) => (typeof read === "string" ? read : read.body))).toEqual(bodies);
    expect(one.slice(3)).toEqual(["corrupt", "corrupt", "corrupt", "corrupt", "tombstone", "miss"]);
    expect(await store.readMany(ids)).toEqual(one);
  });
  it("replaces an entry whose garbled header claims a higher version: every fill and write-through gets in", async () => {
    const future = Date.now() + 60_000;
    const cases = [
      `s1|${FP}|9|99T|1|1|${future}|{}`, // rev with a letter: the old fence compared nil and failed every put
      `s1|${FP}|9|0|1|1|${future}|{}`, // rev 0 is no rev
      `s1|${FP}|99999999999999999|5|1|1|${future}|{}`, // 17 digits: beyond a safe integer
      `s1|${FP}|9|99|1|1|${future}|`, // an entry without a body
      `s1|${FP}|9|T|1|0|0|{"not":"a tombstone"}`, // a tombstone with a body
      `s1|${FP}|9|99|x|1|${future}|{}`, // fetchedAt not digits
      `s1|${FP}|9|99|1|1|${future}x|{}`, // freshUntil not digits
    ];
    for (const [n, bytes] of cases.entries()) {
      const id = fresh();
      await raw(idKey(prefix, id), bytes);
      expect(await store.read(id), bytes).toBe("corrupt");
      const write = n % 2 === 0 ? store.put(id, entry(1, 1), 60_000) : store.writeThrough(id, entry(1, 1), 60_000);
      expect(await write, bytes).toBe("stored");
      expect(await store.read(id), bytes).toMatchObject({ incarnation: 1, rev: 1 });
    }
  });

  it("ignores and drops a floor it cannot parse", async () => {
    for (const bytes of ["99|x", "junk", "99|0", "99999999999999999|1", "9|99|", "|9"]) {
      const id = fresh();
      await raw(floorKey(id), bytes);
      expect(await store.put(id, entry(1, 1), 60_000), bytes).toBe("stored");
      expect(await get(floorKey(id)), bytes).toBeUndefined();
    }
  });

  it("treats a planted entry or floor without a TTL as foreign: replaced, never a stuck key", async () => {
    // A well-formed entry claiming a far higher version, planted by hand with no expiry.
    const a = fresh();
    await plant(idKey(prefix, a), encodeEntry(FP, entry(999, 999)), undefined);
    expect(await store.put(a, entry(1, 1), 60_000)).toBe("stored");
    expect(await store.read(a)).toMatchObject({ incarnation: 1, rev: 1 });
    expect(await pttl(idKey(prefix, a))).toBeGreaterThan(0);
    // Same for a write-through, through the batch script too.
    const b = fresh();
    await plant(idKey(prefix, b), encodeEntry(FP, entry(999, 999)), undefined);
    expect(await store.putMany([{ id: b, entry: entry(1, 2), ttlMs: 60_000 }])).toEqual(["stored"]);
    // A hand-planted floor without expiry rejected every fill forever; now it is dropped.
    const c = fresh();
    await plant(floorKey(c), "999|T", undefined);
    expect(await store.put(c, entry(1, 1), 60_000)).toBe("stored");
    expect(await get(floorKey(c))).toBeUndefined();
    // A planted tombstone without expiry does not fence its incarnation either.
    const d = fresh();
    await plant(idKey(prefix, d), `s1|${FP}|1|T|1|0|0|`, undefined);
    expect(await store.put(d, entry(1, 1), 60_000)).toBe("stored");
  });

  it("cuts a newer-claiming key that outlives the longest TTL down to it, and lets the same version replace it", async () => {
    const id = fresh();
    const hour = 3_600_000;
    await plant(idKey(prefix, id), encodeEntry(FP, entry(1, 9)), hour);
    await plant(floorKey(id), "1|9", hour);
    // A real newer version from a replica with a longer ttl is still honoured: an older fill cannot replace it…
    expect(await bounded.put(id, entry(1, 3), 60_000)).toBe("rejected");
    // …but neither the entry nor the floor can outlive what this document ever writes.
    expect(await pttl(idKey(prefix, id))).toBeLessThanOrEqual(MAX_TTL);
    expect(await pttl(floorKey(id))).toBeLessThanOrEqual(MAX_TTL);
    expect(await pttl(idKey(prefix, id))).toBeGreaterThan(MAX_TTL - 10_000);
    // An over-long entry of the very same version is replaced by a fill of it (fresher or not).
    const other = fresh();
    await plant(idKey(prefix, other), encodeEntry(FP, entry(1, 4, Date.now() + hour)), hour);
    expect(await bounded.put(other, entry(1, 4, Date.now() + 1_000), 60_000)).toBe("stored");
    expect(await pttl(idKey(prefix, other))).toBeLessThanOrEqual(60_000);
    // Keys within the bound are untouched.
    const ours = fresh();
    expect(await bounded.writeThrough(ours, entry(1, 2), 90_000)).toBe("stored");
    expect(await bounded.put(ours, entry(1, 1), 60_000)).toBe("rejected");
    expect(await pttl(idKey(prefix, ours))).toBeGreaterThan(60_000);
  });
  it("clear (after a create) deletes an older entry and raises the floor; a version at least as new stays", async () => {
    const id = fresh();
    await store.put(id, entry(3, 7), 60_000); // an earlier life, no tombstone
    expect(await store.clear(id, 9, 1, 60_000)).toBe("stored");
    expect(await store.read(id)).toBe("miss");
    expect(await get(floorKey(id))).toBe("9|1");
    expect(await store.put(id, entry(3, 7), 60_000)).toBe("rejected"); // the old life's slow fill
    expect(await store.put(id, entry(9, 1), 60_000)).toBe("stored"); // the first read's fill
    expect(await store.clear(id, 9, 1, 60_000)).toBe("rejected"); // the same version is kept…
    expect(await store.read(id)).toMatchObject({ incarnation: 9, rev: 1 });
    await store.writeThrough(id, entry(9, 2), 60_000);
    expect(await store.clear(id, 9, 1, 60_000)).toBe("rejected"); // …and so is a newer one
    expect(await store.read(id)).toMatchObject({ incarnation: 9, rev: 2 });
    // Planted bytes without a TTL go too.
    const planted = fresh();
    await plant(idKey(prefix, planted), encodeEntry(FP, entry(999, 999)), undefined);
    expect(await store.clear(planted, 1, 1, 60_000)).toBe("stored");
    expect(await store.read(planted)).toBe("miss");
  });
});

/** Redis holds types the in-process store cannot: a hash, a list… planted under the library's own keys. */
describe.skipIf(env.skip)("document entries on redis: keys of another type", () => {
  let store: DocumentEntryStore;
  let prefix: string;
  let floorKey: (id: string) => string;
  let raw: Redis;
  const id = () => `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, "0")}`;

  beforeAll(async () => {
    const url = env.redisUrl as string;
    const { backend } = await redisModule({ url, caches: { products: { namespace: `l2w:${Math.random()}` } } }).open({
      logger: silentLogger,
      clock: systemClock,
    });
    opened.push(() => backend.close());
    raw = new Redis(url);
    opened.push(async () => raw.quit().then(() => undefined));
    const namespace = backend.namespace("products");
    if (!namespace) throw new Error("no namespace");
    store = namespace.entries(FP, MAX_TTL);
    prefix = namespace.entryPrefix(FP);
    floorKey = (one) => `${versionFloorPrefix(namespace.namespace, FP)}{${one}}`;
  });

  const plants: ReadonlyArray<readonly [string, (key: string) => Promise<unknown>]> = [
    ["a hash", (key) => raw.hset(key, "rev", "999")],
    ["a list", (key) => raw.rpush(key, "999|T")],
    ["a set", (key) => raw.sadd(key, "x")],
    ["a sorted set", (key) => raw.zadd(key, 1, "x")],
  ];

  it.each(plants)(
    "an entry key holding %s reads as corrupt (never an error) and every put replaces it",
    async (_, plant) => {
      const puts: ReadonlyArray<(one: string) => Promise<unknown>> = [
        (one) => store.put(one, entry(1, 1), 60_000),
        (one) => store.writeThrough(one, entry(1, 1), 60_000),
        (one) => store.putMany([{ id: one, entry: entry(1, 1), ttlMs: 60_000 }]).then(([result]) => result),
        (one) => store.tombstone(one, 1, 60_000),
        (one) => store.put(one, entry(1, 1), 60_000, 30_000), // sliding
      ];
      for (const put of puts) {
        const one = id();
        await plant(`${prefix}{${one}}`);
        expect(await store.read(one)).toBe("corrupt");
        expect(await store.read(one, 30_000)).toBe("corrupt");
        expect(await store.readMany([one, id()])).toEqual(["miss", "miss"]);
        expect(await put(one)).toBe("stored");
        expect(await raw.type(`${prefix}{${one}}`)).toBe("string");
      }
      // A create's clear deletes it.
      const cleared = id();
      await plant(`${prefix}{${cleared}}`);
      expect(await store.clear(cleared, 1, 1, 60_000)).toBe("stored");
      expect(await raw.exists(`${prefix}{${cleared}}`)).toBe(0);
    },
  );

  it.each(plants)(
    "a floor key holding %s is absent to every fill (never rejects one) until a writer replaces it",
    async (_, plant) => {
      for (const put of [
        (one: string) => store.put(one, entry(1, 1), 60_000),
        (one: string) => store.putMany([{ id: one, entry: entry(1, 1), ttlMs: 60_000 }]).then(([result]) => result),
      ]) {
        const one = id();
        await plant(floorKey(one));
        expect(await put(one)).toBe("stored");
        expect(await store.read(one)).toMatchObject({ incarnation: 1, rev: 1 });
        // The fence reads it with MGET (nil for another type): it stays, inert, until a writer's SET replaces it.
        expect(await store.put(one, entry(1, 2), 60_000)).toBe("stored");
      }
      // A write-through replaces it with a real floor.
      const raised = id();
      await plant(floorKey(raised));
      expect(await store.writeThrough(raised, entry(1, 2), 60_000)).toBe("stored");
      expect(await raw.get(floorKey(raised))).toBe("1|2");
    },
  );
});
