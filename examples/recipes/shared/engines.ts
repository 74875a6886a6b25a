/**
 * Picks the engines a recipe runs on, in this order: DATABASE_URL / REDIS_URL when set; local servers on their
 * standard ports when they answer; otherwise the embedded default — PGlite (Postgres in WASM) and the in-process L2.
 * `STRATA_ENGINES=embedded` skips the first two (to try the embedded default on a machine that has servers).
 *
 * On real servers (yours, when DATABASE_URL / REDIS_URL are set) a recipe leaves nothing behind: `cleanUp()`, called
 * in the recipe's `finally`, drops the tables it routed and deletes every key under the namespaces it routed.
 */
import { Redis } from "ioredis";
import pg from "pg";
import type { RedisCacheOptions, RuntimeModule } from "../../../src/index.js";
import { memoryCacheModule, postgresModule, redisModule } from "../../../src/index.js";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS = "redis://127.0.0.1:6379";

export interface Engines {
  readonly postgres: string;
  readonly redis: string;
  readonly modules: (routes: {
    documents: Record<string, { table: string }>;
    /** Routes; `invalidationPush` and the `dedicated` tier apply to Redis only (the in-process L2 ignores push). */
    caches: Record<string, RedisCacheOptions>;
  }) => RuntimeModule[];
  /**
   * Removes what the routes given to `modules()` created on real servers: the tables, and every key under the
   * namespaces. Call it after `runtime.stop()`, in a `finally`. Embedded engines vanish with the process.
   */
  readonly cleanUp: () => Promise<void>;
}

export async function pickEngines(): Promise<Engines> {
  const embedded = process.env.STRATA_ENGINES === "embedded";
  const pgUrl = embedded
    ? undefined
    : (process.env.DATABASE_URL ?? ((await postgresAnswers(LOCAL_POSTGRES)) ? LOCAL_POSTGRES : undefined));
  const redisUrl = embedded
    ? undefined
    : (process.env.REDIS_URL ?? ((await redisAnswers(LOCAL_REDIS)) ? LOCAL_REDIS : undefined));
  const tables = new Set<string>();
  const namespaces = new Set<string>();
  return {
    postgres: pgUrl ? `Postgres at ${redact(pgUrl)}` : "PGlite (embedded Postgres, in memory)",
    redis: redisUrl ? `Redis at ${redact(redisUrl)}` : "in-process L2 (no Redis found)",
    cleanUp: async () => {
      if (pgUrl) await dropTables(pgUrl, tables);
      if (redisUrl) await deleteNamespaces(redisUrl, namespaces);
    },
    modules: ({ documents, caches }) => {
      for (const { table } of Object.values(documents)) tables.add(table);
      for (const { namespace } of Object.values(caches)) namespaces.add(namespace);
      return [
        pgUrl ? postgresModule({ url: pgUrl, documents }) : postgresModule({ pglite: true, documents }),
        redisUrl
          ? redisModule({ url: redisUrl, caches })
          : memoryCacheModule({
              caches: Object.fromEntries(
                Object.entries(caches).map(([name, { invalidationPush: _push, tenancy, ...c }]) => [
                  name,
                  {
                    ...c,
                    ...(tenancy === "tagged" || (tenancy !== undefined && "namespace" in tenancy) ? { tenancy } : {}),
                  },
                ]),
              ),
            }),
      ];
    },
  };
}

/** A table name unique to this run, so a cleanup never drops a table another run is using. */
export function runTable(name: string): string {
  return `${name}_${process.pid}`;
}

/** Drops the tables (in the `public` schema) a recipe created on a real Postgres. */
export async function dropTables(url: string, tables: Iterable<string>): Promise<void> {
  const names = [...tables];
  if (names.length === 0) return;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP TABLE IF EXISTS public.${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Deletes every key a recipe wrote under its namespaces on a real Redis: `<namespace>:…` (entries, tombstones,
 * key/value data) and `<namespace>|…` (version floors, idle clocks).
 */
export async function deleteNamespaces(url: string, namespaces: Iterable<string>): Promise<void> {
  const prefixes = [...namespaces];
  if (prefixes.length === 0) return;
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  await client.connect();
  try {
    for (const namespace of prefixes) {
      for (const separator of [":", "|"]) {
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(
            cursor,
            "MATCH",
            `${globEscape(namespace)}${separator}*`,
            "COUNT",
            500,
          );
          cursor = next;
          if (keys.length > 0) await client.del(...keys);
        } while (cursor !== "0");
      }
    }
  } finally {
    client.disconnect();
  }
}

/** Escapes the characters MATCH treats as a pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Whether a Postgres server answers `SELECT 1` at `url` within a second. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The url with its password masked, for printing. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
