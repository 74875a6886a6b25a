import type { Logger } from "../../kernel/logger.js";
import type { CacheBackend, CacheNamespace } from "../cache-backend.js";
import type { CachePort } from "../cache-port.js";
import type { DocumentEntryStore } from "../document-entry.js";
import { entryPrefix, kvGenerationKey, kvPrefix, kvTagPrefix } from "../key-layout.js";
import type { KeyValueStore } from "../key-value-store.js";
import { type CacheSql, sweepCacheTable } from "./cache-table.js";
import { PostgresEntryStore } from "./postgres-entry-store.js";
import { PostgresKeyValueStore } from "./postgres-key-value-store.js";
import { PostgresKvStore } from "./postgres-kv-store.js";

export interface PostgresCacheRoute {
  readonly namespace: string;
  readonly table: string;
  readonly maxValueBytes: number;
}

export interface PostgresSweepOptions {
  /** Pause between sweeps of each table, ms. */
  readonly intervalMs: number;
  /** Rows deleted per statement; a sweep runs at most 10 statements. */
  readonly batch: number;
}

/**
 * The opened `postgresCacheModule`: namespaces in UNLOGGED tables (cache-table.ts), and one background sweeper per
 * table that deletes expired rows in bounded batches (reads never depend on it: they filter on `expires_at`).
 */
export class PostgresCacheBackend implements CacheBackend {
  readonly kind = "postgres";
  readonly names: ReadonlyArray<string>;
  readonly #namespaces = new Map<string, PostgresNamespace>();
  readonly #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    readonly sql: CacheSql,
    routes: ReadonlyMap<string, PostgresCacheRoute>,
    sweep: PostgresSweepOptions,
    private readonly logger: Logger,
    private readonly closeSql: () => Promise<void>,
  ) {
    this.names = [...routes.keys()];
    for (const [name, route] of routes) this.#namespaces.set(name, new PostgresNamespace(name, route, sql));
    const tables = [...new Set([...routes.values()].map((route) => route.table))];
    this.#timer = setInterval(() => {
      this.#sweeping ??= this.#sweep(tables, sweep.batch).finally(() => {
        this.#sweeping = undefined;
      });
    }, sweep.intervalMs);
    this.#timer.unref();
  }

  namespace(name: string): PostgresNamespace | undefined {
    return this.#namespaces.get(name);
  }

  /** Runs one sweep now (tests, and a sweep on demand); resolves with the rows deleted. */
  async sweep(batch = 1000): Promise<number> {
    const tables = [...new Set([...this.#namespaces.values()].map((ns) => ns.table))];
    let total = 0;
    for (const table of tables) total += await sweepCacheTable(this.sql, table, batch);
    return total;
  }

  async #sweep(tables: ReadonlyArray<string>, batch: number): Promise<void> {
    try {
      for (const table of tables) {
        for (let round = 0; round < 10; round++) {
          if ((await sweepCacheTable(this.sql, table, batch)) < batch) break;
        }
      }
    } catch (error) {
      this.logger.debug("postgres cache sweep failed; next interval retries", { error: String(error) });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
    await this.closeSql();
  }
}

export class PostgresNamespace implements CacheNamespace {
  readonly namespace: string;
  readonly table: string;
  readonly maxValueBytes: number;
  readonly invalidationPush = false;
  readonly #entries = new Map<string, PostgresEntryStore>();
  #keyValues: KeyValueStore | undefined;

  constructor(
    readonly name: string,
    route: PostgresCacheRoute,
    private readonly sql: CacheSql,
  ) {
    this.namespace = route.namespace;
    this.table = route.table;
    this.maxValueBytes = route.maxValueBytes;
  }

  kv(defaultTtlMs: number): CachePort {
    return new PostgresKvStore(this.sql, this.table, kvPrefix(this.namespace), defaultTtlMs, this.maxValueBytes);
  }

  keyValues(): KeyValueStore {
    this.#keyValues ??= new PostgresKeyValueStore(
      this.sql,
      this.table,
      kvPrefix(this.namespace),
      kvGenerationKey(this.namespace),
      kvTagPrefix(this.namespace),
    );
    return this.#keyValues;
  }

  entries(fingerprint: string): DocumentEntryStore {
    let store = this.#entries.get(fingerprint);
    if (!store) {
      store = new PostgresEntryStore(this.sql, this.table, this.entryPrefix(fingerprint), fingerprint);
      this.#entries.set(fingerprint, store);
    }
    return store;
  }

  entryPrefix(fingerprint: string): string {
    return entryPrefix(this.namespace, fingerprint);
  }
}
