/**
 * The three coordination backends side by side, built straight from their adapters (no runtime): the in-process
 * store, a Redis (the url given), and the Postgres cache table (in the database given). Each gets a fresh namespace,
 * so tests of one file do not meet.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { CoordinationStores } from "../../src/coordination/cache-coordination.js";
import { CacheCoordination } from "../../src/coordination/cache-coordination.js";
import { MemoryCoordination } from "../../src/coordination/memory/memory-coordination.js";
import { PostgresCoordination } from "../../src/coordination/postgres/postgres-coordination.js";
import { RedisCoordination } from "../../src/coordination/redis/redis-coordination.js";
import type { Clock } from "../../src/kernel/clock.js";
import { systemClock } from "../../src/kernel/clock.js";
import { migrateCacheTable } from "../../src/l2/postgres/cache-table.js";
import { pgDriver } from "../../src/repository/postgres/pg-driver.js";
import type { SqlDriver } from "../../src/repository/postgres/sql-driver.js";

export type CoordinationKind = "memory" | "redis" | "postgres";
export const COORDINATION_KINDS: ReadonlyArray<CoordinationKind> = ["memory", "redis", "postgres"];
export const CACHE_TABLE = "strata_cache";

export interface OpenedCoordination {
  readonly kind: CoordinationKind;
  readonly stores: CoordinationStores;
  /** The public API over the stores, on `clock` (rate limits read it; locks use timers). */
  api(clock?: Clock): CacheCoordination;
  close(): Promise<void>;
}

export interface CoordinationServers {
  readonly redisUrl: string;
  readonly databaseUrl: string;
}

/** A fresh namespace on `kind`. Memory stores expire on `clock`. */
export async function openCoordination(
  kind: CoordinationKind,
  servers: CoordinationServers,
  clock: Clock = systemClock,
  namespace = `co:${randomUUID().slice(0, 8)}`,
): Promise<OpenedCoordination> {
  let stores: CoordinationStores;
  let close: () => Promise<void> = async () => {};
  if (kind === "memory") {
    stores = new MemoryCoordination(clock);
  } else if (kind === "redis") {
    const client = new Redis(servers.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    stores = new RedisCoordination(client, namespace, 5_000);
    close = async () => {
      await client.quit().catch(() => client.disconnect());
    };
  } else {
    const driver: SqlDriver = pgDriver({ url: servers.databaseUrl, max: 20 });
    await migrateCacheTable(driver, CACHE_TABLE);
    stores = new PostgresCoordination(driver, CACHE_TABLE, namespace);
    close = () => driver.close();
  }
  return { kind, stores, api: (c = clock) => new CacheCoordination(stores, c), close };
}
