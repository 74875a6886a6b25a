import { coordinationKey } from "../../l2/key-layout.js";
import {
  type CacheSql,
  NOW_MS,
  postgresUnavailable,
  quoteTable,
  RATE_STEP_FUNCTION,
} from "../../l2/postgres/cache-table.js";
import type { CoordinationStores } from "../cache-coordination.js";
import type { LockAcquireResult, LockStore } from "../lock-store.js";
import { type RateLimitParams, type RateLimitState, step } from "../rate-limit-model.js";
import type { RateLimitStore } from "../rate-limit-store.js";

/** µs since the epoch on the database clock: the floor of every fencing token (lock-store.ts, FENCING_TOKENS). */
const NOW_US = "(extract(epoch from clock_timestamp()) * 1000000)::bigint";

/**
 * Locks and rate limits in the Postgres cache table, each one statement on one row (atomic under the row lock that
 * INSERT … ON CONFLICT DO UPDATE takes). A lock row keeps its owner in `value`, its end in `expires_at`, and the
 * fencing counter in `state[1]`; release expires it rather than deleting it, so the counter lives on until the
 * sweep. A rate-limit row keeps [allowed flag, state…] in `state` (rate-limit-model.ts, stepped by the SQL function
 * of cache-table.ts). Failures reject with UnavailableError("postgres"); nothing is half-written.
 */
export class PostgresCoordination implements CoordinationStores, LockStore, RateLimitStore {
  readonly #t: string;

  constructor(
    private readonly sql: CacheSql,
    table: string,
    private readonly namespace: string,
  ) {
    this.#t = quoteTable(table);
  }

  get locks(): LockStore {
    return this;
  }

  get rateLimits(): RateLimitStore {
    return this;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<LockAcquireResult> {
    const lock = coordinationKey(this.namespace, "lock", key);
    const { rows } = await this.#q<{ token: string | number | null; remaining: string | number | null }>(
      "lock acquire",
      `WITH taken AS (
         INSERT INTO ${this.#t} AS c (key, value, expires_at, state)
         VALUES ($1, $2, ${NOW_MS} + $3, ARRAY[${NOW_US}])
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
           state = ARRAY[greatest(coalesce(c.state[1], 0) + 1, ${NOW_US})]
         WHERE c.expires_at <= ${NOW_MS} OR c.value IS NULL
         RETURNING state[1] AS token)
       SELECT (SELECT token FROM taken) AS token,
              (SELECT expires_at - ${NOW_MS} FROM ${this.#t} WHERE key = $1) AS remaining`,
      [lock, Buffer.from(owner), ttlMs],
    );
    const row = rows[0];
    if (row?.token != null) return { acquired: true, fencingToken: Number(row.token) };
    return { acquired: false, remainingMs: Math.max(1, Number(row?.remaining ?? 1)) };
  }

  async release(key: string, owner: string): Promise<boolean> {
    const { rows } = await this.#q(
      "lock release",
      `UPDATE ${this.#t} SET value = NULL, expires_at = ${NOW_MS}
       WHERE key = $1 AND value = $2 AND expires_at > ${NOW_MS} RETURNING 1`,
      [coordinationKey(this.namespace, "lock", key), Buffer.from(owner)],
    );
    return rows.length > 0;
  }

  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.#q(
      "lock extend",
      `UPDATE ${this.#t} SET expires_at = ${NOW_MS} + $3
       WHERE key = $1 AND value = $2 AND expires_at > ${NOW_MS} RETURNING 1`,
      [coordinationKey(this.namespace, "lock", key), Buffer.from(owner), ttlMs],
    );
    return rows.length > 0;
  }

  async heldFor(key: string, owner: string): Promise<number> {
    const { rows } = await this.#q<{ remaining: string | number }>(
      "lock check",
      `SELECT expires_at - ${NOW_MS} AS remaining FROM ${this.#t}
       WHERE key = $1 AND value = $2 AND expires_at > ${NOW_MS}`,
      [coordinationKey(this.namespace, "lock", key), Buffer.from(owner)],
    );
    return rows.length === 0 ? 0 : Math.max(1, Number(rows[0]!.remaining));
  }

  async consume(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    const fn = RATE_STEP_FUNCTION;
    const args = "$2, $3, $4, $5, $6";
    const { rows } = await this.#q<{ state: Array<string | number> }>(
      "rate limit",
      `INSERT INTO ${this.#t} AS c (key, expires_at, state)
       VALUES ($1, ${NOW_MS} + $7, ${fn}(${args}, NULL, true))
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at,
         state = ${fn}(${args}, CASE WHEN c.expires_at > ${NOW_MS} THEN c.state END, true)
       RETURNING state`,
      [
        coordinationKey(this.namespace, "rate", key),
        params.algorithm,
        params.limit,
        params.windowMs,
        params.cost,
        now,
        2 * params.windowMs + 1000,
      ],
    );
    const state = rows[0]!.state.map(Number);
    return { allowed: state[0] === 1, state: state.slice(1) };
  }

  async peek(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    const { rows } = await this.#q<{ state: Array<string | number> | null }>(
      "rate limit peek",
      `SELECT state FROM ${this.#t} WHERE key = $1 AND expires_at > ${NOW_MS}`,
      [coordinationKey(this.namespace, "rate", key)],
    );
    const stored = rows[0]?.state?.map(Number).slice(1);
    return step(params, stored, now, false);
  }

  async #q<R extends Record<string, unknown>>(operation: string, text: string, params: ReadonlyArray<unknown>) {
    try {
      return await this.sql.query<R>(text, params);
    } catch (error) {
      throw postgresUnavailable(operation, error);
    }
  }
}
