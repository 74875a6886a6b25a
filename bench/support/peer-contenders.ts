/**
 * The contenders of bench/peers.ts: each peer built the way its docs show, on the same Postgres rows (one
 * `SourceRows` per contender, so its loads are counted apart) and the same Redis, plus the raw clients. Every
 * contender has three instances: `l1` (an in-process tier in front of Redis, measured only on hits), `get`/`getMany`
 * with the in-process tier off (Redis only: L2 hits and misses), and `fillHeap` (a fresh in-process tier alone,
 * filled through the contender's own read path, whose heap is measured).
 *
 * Fairness, as configured here (bench/peers.ts prints what each returns, measured, not claimed):
 * - in-process tiers hand out the cached object by reference where the peer allows it (bentocache
 *   `serialize: false`, CacheableMemory `useClone: false`, layered-loader and cachified always do); stratacache
 *   hands out a deep-frozen document;
 * - Redis values are JSON for every peer (their default serializers); stratacache writes its own entry format
 *   (header + JSON) through a fenced script;
 * - nobody validates on read except stratacache (ids checked, entries decoded against the spec's fingerprint);
 * - timeouts: stratacache bounds every Redis call (`timeoutMs` 250, one timer per connection) and every statement
 *   (`queryTimeoutMs` 10 s); layered-loader's `timeoutInMsecs` is off by default and left off; bentocache's soft
 *   timeout only acts with grace (off), its hard timeout is off; cacheable, cache-manager and cachified have none;
 * - loads use the same named prepared statements (`= $1`, `= ANY($1)`) on one `pg.Pool` (stratacache has its own
 *   pool, also with named statements).
 */
import type { Redis as Redis5 } from "ioredis";
import { LRUCache } from "lru-cache";
import type pg from "pg";
import { bentoInMemory, loadBentocache } from "./bentocache.js";
import {
  type CachifiedCache,
  type CachifiedEntry,
  loadCacheable,
  loadCacheManager,
  loadCachified,
  loadKeyv,
  loadLayeredLoader,
} from "./peer-packages.js";

/** A row as `pg` returns it: bigint `rev` as a string, timestamps as Dates, `data` parsed. */
export interface Row {
  readonly id: string;
  readonly rev: string;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly data: Record<string, unknown>;
}

/** Named prepared statements on a shared pool, counting loads (so a "hit" that reached Postgres is caught). */
export class SourceRows {
  loads = 0;
  constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  async one(id: string): Promise<Row | undefined> {
    this.loads++;
    const { rows } = await this.pool.query<Row>({
      name: "peers_one",
      text: `SELECT id, rev, created_at, updated_at, data FROM ${this.table} WHERE id = $1`,
      values: [id],
    });
    return rows[0];
  }

  /** Rows for `ids`, in no particular order (missing ids absent). */
  async many(ids: ReadonlyArray<string>): Promise<Row[]> {
    this.loads += ids.length;
    const { rows } = await this.pool.query<Row>({
      name: "peers_many",
      text: `SELECT id, rev, created_at, updated_at, data FROM ${this.table} WHERE id = ANY($1::uuid[])`,
      values: [ids],
    });
    return rows;
  }
}

export interface Contender {
  readonly name: string;
  readonly kind: "stratacache" | "peer" | "raw";
  /** How it is configured, for the header of the printed table and the README. */
  readonly config: string;
  readonly source: SourceRows;
  /** A read on the instance with an in-process tier (raw: a synchronous `lru.get`). */
  readonly l1Get: (id: string) => unknown;
  /** A read with the in-process tier off: an L2 hit, or on a cold key, Postgres then the fill. */
  readonly get: (id: string) => Promise<unknown>;
  /** The miss workload when it differs from `get` (raw: SELECT + SET, without the GET before it). */
  readonly miss?: (id: string) => Promise<unknown>;
  readonly getMany: (ids: ReadonlyArray<string>) => Promise<unknown>;
  readonly getManyCold?: (ids: ReadonlyArray<string>) => Promise<unknown>;
  /** Builds a fresh in-process tier alone and fills it with `ids` through the contender's own read path. */
  readonly fillHeap: (ids: ReadonlyArray<string>, capacity: number) => Promise<unknown>;
  close(): Promise<void>;
}

export interface PeerSetup {
  readonly redisUrl: string;
  readonly pool: pg.Pool;
  readonly table: string;
  /** Capacity of the `l1` instances. */
  readonly l1Capacity: number;
  readonly ttlMs: number;
  /** An ioredis 5 client on the private Redis (the ioredis stratacache, bentocache and the raw client use). */
  readonly redis5: () => Redis5;
  /** An ioredis 6 client (layered-loader's peer range is ^6). */
  readonly redis6: () => Redis5;
}

const byId = (rows: ReadonlyArray<Row>, ids: ReadonlyArray<string>): Row[] => {
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => found.get(id) as Row);
};

/** Fills a heap instance from rows fetched in chunks (fresh objects, counted in its heap), one read per id. */
async function fillThrough(
  source: SourceRows,
  ids: ReadonlyArray<string>,
  read: (id: string, load: () => Row) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = byId(await source.many(chunk), chunk);
    for (let j = 0; j < chunk.length; j++) await read(chunk[j] as string, () => rows[j] as Row);
  }
}

/** Cache-aside for a peer whose batch API is a bulk get and a bulk set: one `= ANY` for the missing ids. */
async function bulkAside(
  ids: ReadonlyArray<string>,
  bulkGet: (ids: string[]) => Promise<Array<unknown>>,
  bulkSet: (rows: Row[]) => Promise<unknown>,
  source: SourceRows,
): Promise<unknown[]> {
  const values = await bulkGet([...ids]);
  const missing = ids.filter((_, i) => values[i] === undefined);
  if (missing.length === 0) return values;
  const rows = await source.many(missing);
  await bulkSet(rows);
  const fresh = new Map(rows.map((row) => [row.id, row]));
  return values.map((value, i) => value ?? fresh.get(ids[i] as string));
}

export async function bentocacheContender(setup: PeerSetup): Promise<Contender> {
  const { BentoCache, bentostore, memoryDriver, redisDriver } = await loadBentocache();
  const source = new SourceRows(setup.pool, setup.table);
  const memory = (capacity: number) => memoryDriver({ maxItems: capacity, serialize: false });
  const l1 = new BentoCache({
    default: "s",
    ttl: `${setup.ttlMs}ms`,
    stores: {
      s: bentostore()
        .useL1Layer(memory(setup.l1Capacity))
        .useL2Layer(redisDriver({ connection: setup.redis5() })),
    },
  });
  const l2 = new BentoCache({
    default: "s",
    ttl: `${setup.ttlMs}ms`,
    stores: { s: bentostore().useL2Layer(redisDriver({ connection: setup.redis5() })) },
  });
  const get = (id: string) => l2.getOrSet({ key: id, factory: () => source.one(id) });
  return {
    name: "bentocache",
    kind: "peer",
    config:
      "getOrSet; L1 memory driver serialize: false (by reference), L2 redis driver (ioredis 5, JSON); no bus, no grace; getMany = Promise.all of getOrSet (no bulk API in 1.6.1)",
    source,
    l1Get: (id) => l1.getOrSet({ key: id, factory: () => source.one(id) }),
    get,
    getMany: (ids) => Promise.all(ids.map(get)),
    fillHeap: async (ids, capacity) => {
      const alone = await bentoInMemory(capacity, `${setup.ttlMs}ms`);
      await fillThrough(source, ids, (key, load) => alone.getOrSet({ key, factory: load }));
      return alone;
    },
    close: async () => {
      await l1.disconnect();
      await l2.disconnect();
    },
  };
}

export async function cacheableContender(setup: PeerSetup): Promise<Contender> {
  const [{ Cacheable, createKeyv }, { createRedisKeyv }] = await Promise.all([loadCacheable(), loadKeyv()]);
  const source = new SourceRows(setup.pool, setup.table);
  const ttl = setup.ttlMs;
  const l1 = new Cacheable({
    primary: createKeyv({ useClone: false, lruSize: setup.l1Capacity }),
    secondary: createRedisKeyv(setup.redisUrl, { namespace: "cacheable" }),
    ttl,
  });
  const l2 = new Cacheable({ primary: createRedisKeyv(setup.redisUrl, { namespace: "cacheable" }), ttl });
  const get = (id: string) => l2.getOrSet(id, () => source.one(id));
  return {
    name: "cacheable",
    kind: "peer",
    config:
      "getOrSet; primary CacheableMemory useClone: false (by reference), secondary Keyv + @keyv/redis (node-redis, JSON), blocking; getMany = getMany, one = ANY for the missing, setMany",
    source,
    l1Get: (id) => l1.getOrSet(id, () => source.one(id)),
    get,
    getMany: (ids) =>
      bulkAside(
        ids,
        (keys) => l2.getMany(keys),
        (rows) => l2.setMany(rows.map((row) => ({ key: row.id, value: row }))),
        source,
      ),
    fillHeap: async (ids, capacity) => {
      const alone = new Cacheable({ primary: createKeyv({ useClone: false, lruSize: capacity }), ttl });
      await fillThrough(source, ids, (key, load) => alone.getOrSet(key, load));
      return alone;
    },
    close: async () => {
      await l1.disconnect();
      await l2.disconnect();
    },
  };
}

export async function cacheManagerContender(setup: PeerSetup): Promise<Contender> {
  const [{ createCache }, { Keyv, createRedisKeyv }, { CacheableMemory }] = await Promise.all([
    loadCacheManager(),
    loadKeyv(),
    loadCacheable(),
  ]);
  const source = new SourceRows(setup.pool, setup.table);
  const ttl = setup.ttlMs;
  const memory = (capacity: number) => new Keyv({ store: new CacheableMemory({ useClone: false, lruSize: capacity }) });
  const l1 = createCache({
    stores: [memory(setup.l1Capacity), createRedisKeyv(setup.redisUrl, { namespace: "cache-manager" })],
    ttl,
  });
  const l2 = createCache({ stores: [createRedisKeyv(setup.redisUrl, { namespace: "cache-manager" })], ttl });
  const get = (id: string) => l2.wrap(id, () => source.one(id));
  return {
    name: "cache-manager",
    kind: "peer",
    config:
      "wrap; stores [Keyv(CacheableMemory useClone: false), Keyv + @keyv/redis (node-redis, JSON)] as its docs show; getMany = mget, one = ANY for the missing, mset",
    source,
    l1Get: (id) => l1.wrap(id, () => source.one(id)),
    get,
    getMany: (ids) =>
      bulkAside(
        ids,
        (keys) => l2.mget(keys),
        (rows) => l2.mset(rows.map((row) => ({ key: row.id, value: row, ttl }))),
        source,
      ),
    fillHeap: async (ids, capacity) => {
      const alone = createCache({ stores: [memory(capacity)], ttl });
      await fillThrough(source, ids, (key, load) => alone.wrap(key, load));
      return alone;
    },
    close: async () => {
      await l1.disconnect();
      await l2.disconnect();
    },
  };
}

export async function cachifiedContender(setup: PeerSetup): Promise<Contender> {
  const { cachified, createBatch, totalTtl } = await loadCachified();
  const source = new SourceRows(setup.pool, setup.table);
  const ttl = setup.ttlMs;
  // The lru-cache adapter of cachified's README.
  const lruAdapter = (capacity: number): CachifiedCache => {
    const lru = new LRUCache<string, CachifiedEntry>({ max: capacity });
    return {
      set: (key, value) => {
        const total = totalTtl(value.metadata);
        return lru.set(key, value, {
          ttl: total === Number.POSITIVE_INFINITY ? undefined : total,
          start: value.metadata.createdTime,
        });
      },
      get: (key) => lru.get(key),
      delete: (key) => lru.delete(key),
    };
  };
  // What cachified-redis-adapter does (it targets node-redis), on ioredis: the entry as JSON, PX its total ttl.
  const redis = setup.redis5();
  const redisAdapter: CachifiedCache = {
    get: async (key) => {
      const text = await redis.get(`cachified:${key}`);
      return text === null ? null : (JSON.parse(text) as CachifiedEntry);
    },
    set: (key, value) => {
      const total = totalTtl(value.metadata);
      const text = JSON.stringify(value);
      return total === Number.POSITIVE_INFINITY
        ? redis.set(`cachified:${key}`, text)
        : redis.set(`cachified:${key}`, text, "PX", Math.max(1, Math.round(total)));
    },
    delete: (key) => redis.del(`cachified:${key}`),
  };
  const l1Cache = lruAdapter(setup.l1Capacity);
  const get = (id: string) => cachified({ key: id, cache: redisAdapter, getFreshValue: () => source.one(id), ttl });
  return {
    name: "cachified",
    kind: "peer",
    config:
      "cachified per tier: lru-cache adapter (its README) over an ioredis adapter (JSON entry + metadata, PX); getMany = createBatch (one = ANY for the missing) + Promise.all",
    source,
    l1Get: (id) => cachified({ key: id, cache: l1Cache, getFreshValue: () => get(id), ttl }),
    get,
    getMany: (ids) => {
      const batch = createBatch<Row, string>(async (missing) => byId(await source.many(missing), missing));
      return Promise.all(
        ids.map((id) => cachified({ key: id, cache: redisAdapter, getFreshValue: batch.add(id), ttl })),
      );
    },
    fillHeap: async (ids, capacity) => {
      const alone = lruAdapter(capacity);
      await fillThrough(source, ids, (key, load) => cachified({ key, cache: alone, getFreshValue: load, ttl }));
      return alone;
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

export async function layeredLoaderContender(setup: PeerSetup): Promise<Contender> {
  const { Loader, RedisCache } = await loadLayeredLoader();
  const source = new SourceRows(setup.pool, setup.table);
  const ttl = setup.ttlMs;
  const redis = setup.redis6();
  const asyncCache = new RedisCache(redis, { prefix: "layered-loader", json: true, ttlInMsecs: ttl });
  const common = {
    asyncCache,
    dataSourceGetOneFn: (id: string) => source.one(id),
    dataSourceGetManyFn: (ids: string[]) => source.many(ids),
    cacheKeyFromValueResolver: (row: Row) => row.id,
  };
  const l1 = new Loader<Row>({
    ...common,
    inMemoryCache: { cacheType: "lru-map", ttlInMsecs: ttl, maxItems: setup.l1Capacity },
  });
  const l2 = new Loader<Row>({ ...common, inMemoryCache: false });
  return {
    name: "layered-loader",
    kind: "peer",
    config:
      "Loader; inMemoryCache lru-map (by reference), asyncCache RedisCache (ioredis 6, json: true, no timeoutInMsecs); getMany = Loader.getMany with dataSourceGetManyFn (= ANY)",
    source,
    l1Get: (id) => l1.get(id),
    get: (id) => l2.get(id),
    getMany: (ids) => l2.getMany([...ids]),
    fillHeap: async (ids, capacity) => {
      let current: (() => Row) | undefined;
      const alone = new Loader<Row>({
        inMemoryCache: { cacheType: "lru-map", ttlInMsecs: ttl, maxItems: capacity },
        dataSourceGetOneFn: async () => current?.(),
      });
      await fillThrough(source, ids, (key, load) => {
        current = load;
        return alone.get(key);
      });
      return alone;
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

/** The raw clients: lru-cache `get`; GET + JSON.parse; SELECT + SET; MGET + parse; `= ANY($1)` + pipelined SET. */
export async function rawContender(setup: PeerSetup): Promise<Contender> {
  const source = new SourceRows(setup.pool, setup.table);
  const redis = setup.redis5();
  const ttl = setup.ttlMs;
  const key = (id: string) => `raw:${id}`;
  const lru = new LRUCache<string, Row>({ max: setup.l1Capacity });
  const fill = async (ids: ReadonlyArray<string>) => {
    const rows = await source.many(ids);
    const pipeline = redis.pipeline();
    for (const row of rows) pipeline.set(key(row.id), JSON.stringify(row), "PX", ttl);
    await pipeline.exec();
    return rows;
  };
  return {
    name: "raw",
    kind: "raw",
    config:
      "lru-cache get (sync); ioredis 5 GET + JSON.parse; SELECT by id + SET PX; MGET + JSON.parse; = ANY($1) + pipelined SET PX",
    source,
    l1Get: (id) => {
      const hit = lru.get(id);
      if (hit !== undefined) return hit;
      return source.one(id).then((row) => {
        if (row) lru.set(id, row);
        return row;
      });
    },
    get: async (id) => {
      const text = await redis.get(key(id));
      if (text === null) throw new Error(`raw: ${id} is not in Redis`);
      return JSON.parse(text);
    },
    miss: async (id) => {
      const row = await source.one(id);
      await redis.set(key(id), JSON.stringify(row), "PX", ttl);
      return row;
    },
    getMany: async (ids) => {
      const texts = await redis.mget(ids.map(key));
      return texts.map((text) => JSON.parse(text as string));
    },
    getManyCold: fill,
    fillHeap: async (ids, capacity) => {
      const alone = new LRUCache<string, Row>({ max: capacity });
      await fillThrough(source, ids, async (id, load) => alone.set(id, load()));
      return alone;
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
