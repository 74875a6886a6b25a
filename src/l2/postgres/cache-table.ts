import { StrataError, UnavailableError } from "../../kernel/errors.js";

/**
 * The Postgres cache table: one UNLOGGED table per `postgresCacheModule` table name, keys laid out exactly as in
 * Redis (key-layout.ts), so namespaces share a table without meeting.
 *
 * UNLOGGED because it is a cache: writes skip the WAL (several times cheaper under churn) and are not replicated;
 * a crash or an unclean shutdown of the server truncates the table — every entry, lock and rate-limit window is lost
 * (locks are then free, fencing tokens keep growing from the server clock) — while a clean restart keeps it.
 * Physical standbys have the table but not its rows: read from the primary.
 *
 * One row per key:
 * - `value`: the key/value bytes, a document entry's envelope, or a lock's owner; `expires_at` (ms since the epoch,
 *   database clock) ends it. Every read filters on it; a background sweep deletes dead rows in bounded batches.
 * - document entries also keep their version (`inc`, `rev`: +Infinity for a tombstone, `fresh_until`), the version
 *   floor (`floor_*`, which outlives the entry) and the sliding idle clock (`idle_until`) in the same row, so the
 *   fence is one conditional upsert on one locked row (postgres-entry-store.ts);
 * - `state`: numbers of locks (the fencing counter) and rate limits (see rate-limit-model.ts), and the versions
 *   of the cache API (a namespace's generation, a tag's version: rows that never expire);
 * - cache API entries (postgres-key-value-store.ts) keep the generation and tag versions they were written under in
 *   `gen`, `tags`, `tag_versions`, and their freshness in `fresh_until`, `delta_ms`.
 */
export interface CacheSql {
  /** True when statements run in this process (PGlite; see SqlDriver.inProcess). */
  readonly inProcess?: boolean;
  /** Runs one statement with `$1…` parameters; a failure should be an UnavailableError("postgres"). */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: ReadonlyArray<unknown>,
  ): Promise<{ readonly rows: R[] }>;
  /** Runs `fn` in one transaction (migrations only). */
  transaction<T>(fn: (tx: Pick<CacheSql, "query">) => Promise<T>): Promise<T>;
}

/** The database clock in ms since the epoch (one clock for every replica's expiries). */
export const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** `"name"`, inner quotes doubled (the name is checked by the module: [a-z_][a-z0-9_]*, at most 63 bytes). */
export function quoteTable(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The rate-limit step in SQL (rate-limit-model.ts' `step`, line for line); `s` is the stored state, flag first. */
export const RATE_STEP_FUNCTION = "strata_rate_step_v1";

const RATE_STEP_SQL = `
CREATE OR REPLACE FUNCTION ${RATE_STEP_FUNCTION}(alg text, lim bigint, win bigint, cost bigint, now_ms bigint,
  s bigint[], consume boolean) RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  w bigint; cur bigint := 0; prev bigint := 0; tat bigint; frac bigint; total bigint; whole bigint;
  ntat bigint; nfrac bigint; ok boolean; elapsed bigint;
BEGIN
  IF alg = 'gcra' THEN
    tat := coalesce(s[2], 0); frac := coalesce(s[3], 0);
    IF tat < now_ms THEN tat := now_ms; frac := 0; END IF;
    total := frac + cost * win;
    whole := total / lim;
    ntat := tat + whole; nfrac := total - whole * lim;
    ok := ntat < now_ms + win OR (ntat = now_ms + win AND nfrac = 0);
    IF ok AND consume THEN tat := ntat; frac := nfrac; END IF;
    RETURN ARRAY[ok::int::bigint, tat, frac];
  END IF;
  w := now_ms / win;
  IF s[2] = w THEN cur := coalesce(s[3], 0); prev := coalesce(s[4], 0);
  ELSIF s[2] = w - 1 THEN prev := coalesce(s[3], 0);
  END IF;
  IF alg = 'fixed' THEN
    ok := cur + cost <= lim;
    IF ok AND consume THEN cur := cur + cost; END IF;
    RETURN ARRAY[ok::int::bigint, w, cur];
  END IF;
  elapsed := now_ms - w * win;
  ok := prev * (win - elapsed) + (cur + cost) * win <= lim * win;
  IF ok AND consume THEN cur := cur + cost; END IF;
  RETURN ARRAY[ok::int::bigint, w, cur, prev];
END $fn$`;

/**
 * The counter step of the cache API's `increment` (l2/kv-counter.ts' nextCount, in SQL): the integer in a live
 * entry's value bytes (`j<integer>`, or 0 when `current` is NULL) plus `by`, clamped. Raises SQLSTATE SC001 for a
 * value that is not a counter and SC002 past ±(2^53 − 1): the statement then writes nothing.
 */
export const COUNT_FUNCTION = "strata_kv_count_v1";

const COUNT_SQL = `
CREATE OR REPLACE FUNCTION ${COUNT_FUNCTION}(current bytea, by_n bigint, floor_n bigint, ceiling_n bigint)
  RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE txt text; n numeric := 0;
BEGIN
  IF current IS NOT NULL THEN
    txt := convert_from(current, 'LATIN1');
    IF txt !~ '^j-?[0-9]{1,16}$' THEN RAISE EXCEPTION 'not a counter' USING ERRCODE = 'SC001'; END IF;
    n := substr(txt, 2)::numeric;
  END IF;
  n := n + by_n;
  IF floor_n IS NOT NULL AND n < floor_n THEN n := floor_n; END IF;
  IF ceiling_n IS NOT NULL AND n > ceiling_n THEN n := ceiling_n; END IF;
  IF abs(n) > 9007199254740991 THEN RAISE EXCEPTION 'counter overflow' USING ERRCODE = 'SC002'; END IF;
  RETURN n::bigint;
END $fn$`;

/** Creates the table, its expiry index and the rate-limit function, once per database even under concurrent starts. */
export async function migrateCacheTable(sql: CacheSql, table: string): Promise<void> {
  const t = quoteTable(table);
  await sql.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('stratacache:cache-table'))");
    await tx.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${t} (
      key text COLLATE "C" PRIMARY KEY,
      value bytea,
      expires_at bigint NOT NULL,
      inc bigint, rev float8, fresh_until bigint,
      floor_inc bigint, floor_rev float8, floor_until bigint,
      idle_until bigint,
      state bigint[],
      gen bigint, delta_ms bigint, tags text[], tag_versions bigint[]
    )`);
    await tx.query(`CREATE INDEX IF NOT EXISTS ${quoteTable(`${table}_expiry`)} ON ${t} (expires_at)`);
    for (const [name, body] of [
      [RATE_STEP_FUNCTION, RATE_STEP_SQL],
      [COUNT_FUNCTION, COUNT_SQL],
    ] as const) {
      const exists = await tx.query("SELECT 1 FROM pg_proc WHERE proname = $1", [name]);
      if (exists.rows.length === 0) await tx.query(body);
    }
  });
}

/**
 * Deletes up to `batch` dead rows (value and floor both expired); returns how many. Bounded and SKIP LOCKED, so a
 * sweep never holds many locks nor waits on a busy row.
 */
export async function sweepCacheTable(sql: CacheSql, table: string, batch: number): Promise<number> {
  const t = quoteTable(table);
  const { rows } = await sql.query<{ n: string | number }>(
    `WITH dead AS (
       SELECT key FROM ${t} WHERE expires_at < ${NOW_MS} AND coalesce(floor_until, 0) < ${NOW_MS}
       LIMIT $1 FOR UPDATE SKIP LOCKED)
     , gone AS (DELETE FROM ${t} USING dead WHERE ${t}.key = dead.key RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [batch],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Bytes as a Buffer, whichever driver answered (pg: Buffer, PGlite: Uint8Array). */
export function bytes(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
}

/** Wraps anything that is not already a StrataError (a driver without its own wrapping). */
export function postgresUnavailable(operation: string, error: unknown): StrataError {
  if (error instanceof StrataError) return error;
  return new UnavailableError(
    "postgres",
    `postgres cache ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
