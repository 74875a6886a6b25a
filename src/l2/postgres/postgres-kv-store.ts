import { parseDuration } from "../../kernel/duration.js";
import type { CachePort, CacheSetOptions, CacheValue } from "../cache-port.js";
import { decodeCacheValue } from "../cache-value-codec.js";
import { checkKvKey, checkKvKeys, checkSetOptions, encodeKvEntries, encodeKvValue } from "../kv-input.js";
import { bytes, type CacheSql, NOW_MS, postgresUnavailable, quoteTable } from "./cache-table.js";

/**
 * The key/value port over the Postgres cache table: each call is one statement (a batch too), so it is atomic — a
 * setMany cut by a failure wrote all of its entries or none. Failures reject with UnavailableError("postgres").
 */
export class PostgresKvStore implements CachePort {
  readonly #t: string;

  constructor(
    private readonly sql: CacheSql,
    table: string,
    private readonly prefix: string,
    private readonly defaultTtlMs: number,
    private readonly maxValueBytes: number,
  ) {
    this.#t = quoteTable(table);
  }

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    const { rows } = await this.#q<{ value: unknown }>(
      "GET",
      `SELECT value FROM ${this.#t} WHERE key = $1 AND expires_at > ${NOW_MS}`,
      [this.prefix + checkKvKey(key)],
    );
    const raw = rows[0]?.value;
    return raw == null ? undefined : (decodeCacheValue(bytes(raw)) as T | undefined);
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    const full = checkKvKeys(keys).map((key) => this.prefix + key);
    if (full.length === 0) return [];
    const { rows } = await this.#q<{ key: string; value: unknown }>(
      "MGET",
      `SELECT key, value FROM ${this.#t} WHERE key = ANY($1::text[]) AND expires_at > ${NOW_MS}`,
      [full],
    );
    const found = new Map<string, unknown>();
    for (const row of rows) if (row.value != null) found.set(row.key, decodeCacheValue(bytes(row.value)));
    return full.map((key) => found.get(key) as T | undefined);
  }

  async exists(key: string): Promise<boolean> {
    const { rows } = await this.#q(
      "EXISTS",
      `SELECT 1 FROM ${this.#t} WHERE key = $1 AND expires_at > ${NOW_MS} AND value IS NOT NULL`,
      [this.prefix + checkKvKey(key)],
    );
    return rows.length > 0;
  }

  async set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void> {
    const full = this.prefix + checkKvKey(key);
    const encoded = encodeKvValue(value, this.maxValueBytes);
    await this.#q(
      "SET",
      `INSERT INTO ${this.#t} AS c (key, value, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [full, encoded, this.#ttl(options)],
    );
  }

  async setMany(
    entries: ReadonlyArray<readonly [key: string, value: CacheValue]>,
    options?: CacheSetOptions,
  ): Promise<void> {
    const ttl = this.#ttl(options);
    const encoded = encodeKvEntries(entries, (key) => this.prefix + key, this.maxValueBytes);
    if (encoded.length === 0) return;
    // The last write of a key wins, as in Redis; one statement may not touch a row twice.
    const last = new Map<string, Buffer>();
    for (const [key, value] of encoded) last.set(key, value);
    await this.#q(
      "SET (batch)",
      `INSERT INTO ${this.#t} AS c (key, value, expires_at)
       SELECT k, v, ${NOW_MS} + $3 FROM unnest($1::text[], $2::bytea[]) AS u(k, v)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [[...last.keys()], [...last.values()], ttl],
    );
  }

  async delete(key: string): Promise<boolean> {
    const { rows } = await this.#q<{ live: boolean }>(
      "DEL",
      `DELETE FROM ${this.#t} WHERE key = $1 RETURNING (expires_at > ${NOW_MS} AND value IS NOT NULL) AS live`,
      [this.prefix + checkKvKey(key)],
    );
    return rows[0]?.live === true;
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    const full = checkKvKeys(keys).map((key) => this.prefix + key);
    if (full.length === 0) return 0;
    const { rows } = await this.#q<{ live: boolean }>(
      "DEL (batch)",
      `DELETE FROM ${this.#t} WHERE key = ANY($1::text[])
       RETURNING (expires_at > ${NOW_MS} AND value IS NOT NULL) AS live`,
      [full],
    );
    return rows.filter((row) => row.live === true).length;
  }

  #ttl(options: CacheSetOptions | undefined): number {
    const ttl = checkSetOptions(options)?.ttl;
    return ttl === undefined ? this.defaultTtlMs : parseDuration(ttl, "ttl");
  }

  async #q<R extends Record<string, unknown>>(operation: string, text: string, params: ReadonlyArray<unknown>) {
    try {
      return await this.sql.query<R>(text, params);
    } catch (error) {
      throw postgresUnavailable(operation, error);
    }
  }
}
