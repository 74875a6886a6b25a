/**
 * Picks the engines a recipe runs on, in this order: DATABASE_URL / REDIS_URL when set; local servers on their
 * standard ports when they answer; otherwise the embedded default — PGlite (Postgres in WASM) and the in-process L2.
 * `STRATA_ENGINES=embedded` skips the first two (to try the embedded default on a machine that has servers).
 */
import { Redis } from "ioredis";
import pg from "pg";
import type { RuntimeModule } from "../../../src/index.js";
import { memoryCacheModule, postgresModule, redisModule } from "../../../src/index.js";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS = "redis://127.0.0.1:6379";

export interface Engines {
  readonly postgres: string;
  readonly redis: string;
  readonly modules: (routes: {
    documents: Record<string, { table: string }>;
    caches: Record<string, { namespace: string; invalidationPush?: boolean }>;
  }) => RuntimeModule[];
}

export async function pickEngines(): Promise<Engines> {
  const embedded = process.env.STRATA_ENGINES === "embedded";
  const pgUrl = embedded
    ? undefined
    : (process.env.DATABASE_URL ?? ((await postgresAnswers(LOCAL_POSTGRES)) ? LOCAL_POSTGRES : undefined));
  const redisUrl = embedded
    ? undefined
    : (process.env.REDIS_URL ?? ((await redisAnswers(LOCAL_REDIS)) ? LOCAL_REDIS : undefined));
  return {
    postgres: pgUrl ? `Postgres at ${redact(pgUrl)}` : "PGlite (embedded Postgres, in memory)",
    redis: redisUrl ? `Redis at ${redact(redisUrl)}` : "in-process L2 (no Redis found)",
    modules: ({ documents, caches }) => [
      pgUrl ? postgresModule({ url: pgUrl, documents }) : postgresModule({ pglite: true, documents }),
      redisUrl
        ? redisModule({ url: redisUrl, caches })
        : memoryCacheModule({
            caches: Object.fromEntries(Object.entries(caches).map(([name, c]) => [name, { namespace: c.namespace }])),
          }),
    ],
  };
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
