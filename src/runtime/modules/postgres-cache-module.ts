import { PostgresCoordination } from "../../coordination/postgres/postgres-coordination.js";
import {
  checkKnownKeys,
  checkName,
  checkNamespace,
  checkObject,
  checkPositiveInt,
  checkTimerDelay,
} from "../../kernel/check-options.js";
import type { Duration } from "../../kernel/duration.js";
import { parseDuration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../../l2/kv-input.js";
import { type CacheSql, migrateCacheTable } from "../../l2/postgres/cache-table.js";
import { PostgresCacheBackend, type PostgresCacheRoute } from "../../l2/postgres/postgres-cache-backend.js";
import { type PgPoolLike, pgDriver } from "../../repository/postgres/pg-driver.js";
import { loadPglite, type PGliteLike, pgliteDriver } from "../../repository/postgres/pglite-driver.js";
import type { SqlDriver } from "../../repository/postgres/sql-driver.js";
import { checkCacheName } from "../../spec/cache-name.js";
import type { CacheModule, ModuleEnv } from "../module.js";
import { type DataLocation, postgresUrlLocation } from "../route-conflicts.js";

/** One cache route of postgresCacheModule. */
export interface PostgresCacheOptions {
  /**
   * The UNLOGGED table holding this cache (created at start when missing): lower-case letters, digits and `_`, at
   * most 56 characters. Several caches may share one table: their namespaces keep them apart.
   * @default "strata_cache"
   */
  readonly table?: string;
  /**
   * Key prefix inside the table, as with Redis; two routes of one table may not overlap.
   * @default the cache name
   */
  readonly namespace?: string;
  /**
   * Largest value stored, in bytes once encoded: a bigger key/value set is a ValidationError (nothing written); a
   * bigger document body is not cached (served from Postgres, counted in `source.tooLarge`).
   * @default 1048576 (1 MiB)
   */
  readonly maxValueBytes?: number;
}

/**
 * Options of postgresCacheModule: exactly one of `url`, `pool` or `pglite`. Checked at once: an unknown or bad one
 * throws ConfigurationError naming it.
 */
export interface PostgresCacheModuleOptions {
  /** A `postgres://` url: the module creates its own pool and ends it on stop(). */
  readonly url?: string;
  /** Your `pg.Pool` (left open on stop()); it may be the one your postgresModule uses. */
  readonly pool?: PgPoolLike;
  /** A PGlite instance (left open on stop()), or `true` for an in-memory one created and closed with the runtime. */
  readonly pglite?: PGliteLike | true;
  /** Cache name (`CacheSpec.name`) → its route; at least one. */
  readonly caches: Readonly<Record<string, PostgresCacheOptions>>;
  /**
   * Whether start() creates the tables (UNLOGGED, with their expiry index) and the rate-limit function when missing.
   * @default true
   */
  readonly migrate?: boolean;
  /**
   * Pause between background sweeps that delete expired rows, per table (reads never return them either way).
   * @default "30s"
   */
  readonly sweepInterval?: Duration;
  /**
   * Rows one sweep statement deletes at most (a sweep runs at most 10 of them): small batches keep locks short.
   * @default 1000
   */
  readonly sweepBatch?: number;
  /**
   * Client-side bound on each statement of a pool the module creates from `url`, in ms; a call that hits it rejects
   * with UnavailableError.
   * @default 2000
   */
  readonly queryTimeoutMs?: number;
}

const DEFAULT_TABLE = "strata_cache";
const DEFAULT_QUERY_TIMEOUT_MS = 2_000;

/**
 * A cache backend in Postgres, for deployments without Redis: key/value caches, locks, rate limits, and the L2 of
 * documents (fenced like Redis), shared by every replica that reaches the database. No push invalidation: documents
 * on it should keep `l1` short or off. Options are validated now; the tables are created at `runtime.start()`.
 *
 * @example
 * ```ts
 * import { createRuntime, postgresCacheModule, postgresModule } from "stratacache";
 *
 * const url = "postgres://postgres@127.0.0.1:5432/app";
 * const runtime = createRuntime({
 *   modules: [
 *     postgresModule({ url, documents: { products: {} } }),
 *     postgresCacheModule({ url, caches: { products: {}, sessions: { table: "session_cache" } } }),
 *   ],
 * });
 * await runtime.start();
 * await runtime.stop();
 * ```
 */
export function postgresCacheModule(options: PostgresCacheModuleOptions): CacheModule {
  const opts = checkObject(options, "postgresCacheModule");
  checkKnownKeys(
    opts,
    ["url", "pool", "pglite", "caches", "migrate", "sweepInterval", "sweepBatch", "queryTimeoutMs"],
    "postgresCacheModule",
  );
  const sources = ["url", "pool", "pglite"].filter((key) => opts[key] !== undefined);
  if (sources.length !== 1)
    throw new ConfigurationError("postgresCacheModule", "needs exactly one of url, pool or pglite");
  if (opts.url !== undefined && (typeof opts.url !== "string" || !/^postgres(ql)?:\/\//.test(opts.url))) {
    throw new ConfigurationError("postgresCacheModule.url", "must be a postgres:// or postgresql:// url");
  }
  if (opts.pglite !== undefined && opts.pglite !== true && typeof (opts.pglite as PGliteLike).query !== "function") {
    throw new ConfigurationError("postgresCacheModule.pglite", "must be a PGlite instance or true");
  }
  const pool = opts.pool as Record<string, unknown> | undefined;
  if (
    pool !== undefined &&
    (typeof pool !== "object" || typeof pool.query !== "function" || typeof pool.connect !== "function")
  ) {
    throw new ConfigurationError("postgresCacheModule.pool", "must be a pg.Pool");
  }
  const migrate = opts.migrate ?? true;
  if (typeof migrate !== "boolean") throw new ConfigurationError("postgresCacheModule.migrate", "must be a boolean");
  const sweepIntervalMs =
    opts.sweepInterval === undefined ? 30_000 : parseDuration(opts.sweepInterval, "postgresCacheModule.sweepInterval");
  const sweepBatch =
    opts.sweepBatch === undefined ? 1000 : checkPositiveInt(opts.sweepBatch, "postgresCacheModule.sweepBatch");
  const queryTimeoutMs =
    opts.queryTimeoutMs === undefined
      ? DEFAULT_QUERY_TIMEOUT_MS
      : checkTimerDelay(opts.queryTimeoutMs, "postgresCacheModule.queryTimeoutMs");
  const routes = new Map<string, PostgresCacheRoute>();
  for (const [name, value] of Object.entries(checkObject(opts.caches, "postgresCacheModule.caches"))) {
    const path = `postgresCacheModule.caches.${name}`;
    checkCacheName(name, path);
    const cache = checkObject(value, path);
    checkKnownKeys(cache, ["table", "namespace", "maxValueBytes"], path);
    const table = cache.table === undefined ? DEFAULT_TABLE : checkName(cache.table, `${path}.table`);
    if (table.length > 56) throw new ConfigurationError(`${path}.table`, "must be at most 56 characters");
    routes.set(name, {
      table,
      namespace: cache.namespace === undefined ? name : checkNamespace(cache.namespace, `${path}.namespace`),
      maxValueBytes:
        cache.maxValueBytes === undefined
          ? DEFAULT_MAX_VALUE_BYTES
          : checkPositiveInt(cache.maxValueBytes, `${path}.maxValueBytes`),
    });
  }
  if (routes.size === 0) throw new ConfigurationError("postgresCacheModule.caches", "must route at least one cache");
  const place = locationOf(opts);
  return {
    kind: "cache",
    names: [...routes.keys()],
    // Namespaces collide only within one table of one database.
    namespaces: [...routes].map(([cache, route]) => ({
      module: "postgresCacheModule",
      location: typeof place === "string" ? `${place}#${route.table}` : place,
      cache,
      namespace: route.namespace,
    })),
    async open(env: ModuleEnv) {
      if (options.pglite === true) await loadPglite();
      const driver = driverFor(options, queryTimeoutMs);
      const sql: CacheSql = driver;
      try {
        if (migrate)
          for (const table of new Set([...routes.values()].map((r) => r.table))) await migrateCacheTable(sql, table);
      } catch (error) {
        await driver.close();
        throw error;
      }
      const backend = new PostgresCacheBackend(
        sql,
        routes,
        { intervalMs: sweepIntervalMs, batch: sweepBatch },
        env.logger,
        () => driver.close(),
      );
      const coordination = new Map(
        [...routes].map(
          ([name, route]) => [name, new PostgresCoordination(sql, route.table, route.namespace)] as const,
        ),
      );
      return { backend, coordination: (name: string) => coordination.get(name) };
    },
  };
}

function driverFor(options: PostgresCacheModuleOptions, queryTimeoutMs: number): SqlDriver {
  if (options.url !== undefined) return pgDriver({ url: options.url, queryTimeoutMs });
  if (options.pool !== undefined) return pgDriver({ pool: options.pool });
  return pgliteDriver(options.pglite === true ? {} : { pglite: options.pglite });
}

function locationOf(opts: Record<string, unknown>): DataLocation {
  if (typeof opts.url === "string") return postgresUrlLocation(opts.url);
  const source = opts.pool ?? opts.pglite;
  return typeof source === "object" && source !== null ? source : {};
}
