import type { EntryWrite, KeyValueStore, StoredEntry } from "../key-value-store.js";
import { counterOverflow, notACounter } from "../kv-counter.js";
import { bytes, type CacheSql, COUNT_FUNCTION, NOW_MS, postgresUnavailable, quoteTable } from "./cache-table.js";

/** A version row (generation, tag version) never expires: one that came back to 0 would revive what it killed. */
const FOREVER = 8_640_000_000_000_000;

interface Row extends Record<string, unknown> {
  key: string;
  value: unknown;
  fresh_until: string | number | null;
  delta_ms: string | number | null;
  live: boolean;
}

/**
 * The cache API's entries in the Postgres cache table, every primitive one statement. An entry row keeps the
 * generation and the tag versions it was stamped with in its own columns (`gen`, `tags`, `tag_versions`), read in
 * the same statement that writes it; the namespace's generation and each tag's version are rows of their own
 * (`<namespace>:kv|gen`, `<namespace>:kv|tag:<tag>`, the count in `state[1]`), bumped by one upsert. The liveness
 * check (`#live`) is MemoryKeyValueStore#isLive in SQL: unexpired, generation current, every tag at its version.
 */
export class PostgresKeyValueStore implements KeyValueStore {
  readonly kind = "postgres";
  readonly #t: string;

  constructor(
    private readonly sql: CacheSql,
    table: string,
    /** `<namespace>:kv:` */
    private readonly prefix: string,
    private readonly generationKey: string,
    private readonly tagPrefix: string,
  ) {
    this.#t = quoteTable(table);
  }

  /** Whether row `a` is live; `$g` and `$p` are the parameter numbers of the generation key and the tag prefix. */
  #live(a: string, g: number, p: number): string {
    const t = this.#t;
    return `(${a}.expires_at > ${NOW_MS} AND ${a}.value IS NOT NULL
      AND coalesce(${a}.gen, 0) = coalesce((SELECT gv.state[1] FROM ${t} gv WHERE gv.key = $${g}), 0)
      AND coalesce(${a}.tag_versions, '{}'::bigint[]) = ARRAY(
        SELECT coalesce((SELECT tv.state[1] FROM ${t} tv WHERE tv.key = $${p} || x.tg), 0)
        FROM unnest(coalesce(${a}.tags, '{}'::text[])) WITH ORDINALITY AS x(tg, i) ORDER BY x.i))`;
  }

  async read(keys: ReadonlyArray<string>): Promise<Array<StoredEntry | undefined>> {
    if (keys.length === 0) return [];
    const full = keys.map((key) => this.prefix + key);
    const { rows } = await this.#q<Row>(
      "read",
      `SELECT e.key, e.value, e.fresh_until, e.delta_ms, ${this.#live("e", 2, 3)} AS live
       FROM ${this.#t} e WHERE e.key = ANY($1::text[])`,
      [full, this.generationKey, this.tagPrefix],
    );
    const found = new Map<string, StoredEntry>();
    for (const row of rows) if (row.live) found.set(row.key, entryOf(row));
    return full.map((key) => found.get(key));
  }

  async write(entries: ReadonlyArray<EntryWrite>): Promise<void> {
    if (entries.length === 0) return;
    // The last write of a key wins; one statement may not touch a row twice.
    const last = new Map<string, EntryWrite>();
    for (const entry of entries) last.set(this.prefix + entry.key, entry);
    await this.#q("write", `${this.#insert("$4::jsonb")} ON CONFLICT (key) DO UPDATE SET ${UPDATE_ALL}`, [
      ...this.#versionParams(),
      [...last.keys()],
      JSON.stringify([...last.values()].map(describe)),
    ]);
  }

  async add(entry: EntryWrite): Promise<boolean> {
    const { rows } = await this.#q(
      "add",
      `${this.#insert("$4::jsonb")} ON CONFLICT (key) DO UPDATE SET ${UPDATE_ALL}
       WHERE NOT ${this.#live("c", 1, 2)} RETURNING 1`,
      [...this.#versionParams(), [this.prefix + entry.key], JSON.stringify([describe(entry)])],
    );
    return rows.length > 0;
  }

  async pull(key: string): Promise<StoredEntry | undefined> {
    // DELETE … RETURNING sees the row as it was: its liveness is judged before it goes.
    const { rows } = await this.#q<Row>(
      "pull",
      `DELETE FROM ${this.#t} e WHERE e.key = $1
       RETURNING e.key, e.value, e.fresh_until, e.delta_ms, ${this.#live("e", 2, 3)} AS live`,
      [this.prefix + key, this.generationKey, this.tagPrefix],
    );
    const row = rows[0];
    return row?.live ? entryOf(row) : undefined;
  }

  async remove(keys: ReadonlyArray<string>): Promise<number> {
    if (keys.length === 0) return 0;
    const { rows } = await this.#q<{ held: boolean }>(
      "remove",
      `DELETE FROM ${this.#t} WHERE key = ANY($1::text[])
       RETURNING (expires_at > ${NOW_MS} AND value IS NOT NULL) AS held`,
      [[...new Set(keys.map((key) => this.prefix + key))]],
    );
    return rows.filter((row) => row.held).length;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.#q(
      "expire",
      `UPDATE ${this.#t} e SET expires_at = ${NOW_MS} + $4 WHERE e.key = $1 AND ${this.#live("e", 2, 3)} RETURNING 1`,
      [this.prefix + key, this.generationKey, this.tagPrefix, ttlMs],
    );
    return rows.length > 0;
  }

  async ttl(key: string): Promise<number | undefined> {
    const { rows } = await this.#q<{ left: string | number }>(
      "ttl",
      `SELECT e.expires_at - ${NOW_MS} AS left FROM ${this.#t} e WHERE e.key = $1 AND ${this.#live("e", 2, 3)}`,
      [this.prefix + key, this.generationKey, this.tagPrefix],
    );
    return rows.length === 0 ? undefined : Math.max(1, Number(rows[0]!.left));
  }

  async increment(key: string, by: number, ttlMs: number, floor?: number, ceiling?: number): Promise<number> {
    const t = this.#t;
    const count = (current: string) => `convert_to('j' || ${COUNT_FUNCTION}(${current}, $4, $5, $6)::text, 'LATIN1')`;
    try {
      const { rows } = await this.sql.query<{ value: unknown }>(
        `INSERT INTO ${t} AS c (key, value, expires_at, gen, fresh_until, delta_ms, tags, tag_versions)
         VALUES ($1, ${count("NULL")}, ${NOW_MS} + $7,
           coalesce((SELECT gv.state[1] FROM ${t} gv WHERE gv.key = $2), 0), 0, 0, '{}', '{}')
         ON CONFLICT (key) DO UPDATE SET
           value = ${count(`CASE WHEN ${this.#live("c", 2, 3)} THEN c.value END`)},
           expires_at = CASE WHEN ${this.#live("c", 2, 3)} THEN c.expires_at ELSE excluded.expires_at END,
           gen = excluded.gen, fresh_until = 0, delta_ms = 0, tags = '{}', tag_versions = '{}'
         RETURNING value`,
        [this.prefix + key, this.generationKey, this.tagPrefix, by, floor ?? null, ceiling ?? null, ttlMs],
      );
      return Number(bytes(rows[0]!.value).toString("latin1").slice(1));
    } catch (error) {
      const state = sqlState(error);
      if (state === "SC001") throw notACounter(key);
      if (state === "SC002") throw counterOverflow(key);
      throw postgresUnavailable("increment", error);
    }
  }

  async invalidateTags(tags: ReadonlyArray<string>): Promise<void> {
    if (tags.length === 0) return;
    await this.#bump([...new Set(tags)].map((tag) => this.tagPrefix + tag));
  }

  async clear(): Promise<void> {
    await this.#bump([this.generationKey]);
  }

  async #bump(keys: ReadonlyArray<string>): Promise<void> {
    await this.#q(
      "version bump",
      `INSERT INTO ${this.#t} AS c (key, expires_at, state) SELECT k, ${FOREVER}, ARRAY[1::bigint]
       FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO UPDATE SET state = ARRAY[coalesce(c.state[1], 0) + 1], expires_at = ${FOREVER}`,
      [keys],
    );
  }

  /** `$1` generation key, `$2` tag prefix, `$3` full keys, `source` the JSON of each entry (describe()). */
  #insert(source: string): string {
    const t = this.#t;
    return `INSERT INTO ${t} AS c (key, value, expires_at, gen, fresh_until, delta_ms, tags, tag_versions)
      SELECT k.key, decode(e->>'v', 'base64'), ${NOW_MS} + (e->>'ttl')::bigint,
        coalesce((SELECT gv.state[1] FROM ${t} gv WHERE gv.key = $1), 0),
        (e->>'fresh')::bigint, (e->>'delta')::bigint,
        ARRAY(SELECT jsonb_array_elements_text(e->'tags')),
        ARRAY(SELECT coalesce((SELECT tv.state[1] FROM ${t} tv WHERE tv.key = $2 || x.tg), 0)
              FROM jsonb_array_elements_text(e->'tags') WITH ORDINALITY AS x(tg, i) ORDER BY x.i)
      FROM unnest($3::text[]) WITH ORDINALITY AS k(key, i)
      JOIN jsonb_array_elements(${source}) WITH ORDINALITY AS j(e, i) ON j.i = k.i`;
  }

  #versionParams(): [string, string] {
    return [this.generationKey, this.tagPrefix];
  }

  async #q<R extends Record<string, unknown>>(operation: string, text: string, params: ReadonlyArray<unknown>) {
    try {
      return await this.sql.query<R>(text, params);
    } catch (error) {
      throw postgresUnavailable(operation, error);
    }
  }
}

const UPDATE_ALL = `value = excluded.value, expires_at = excluded.expires_at, gen = excluded.gen,
  fresh_until = excluded.fresh_until, delta_ms = excluded.delta_ms, tags = excluded.tags,
  tag_versions = excluded.tag_versions`;

function describe(entry: EntryWrite) {
  return {
    v: entry.value.toString("base64"),
    ttl: Math.max(1, Math.ceil(entry.ttlMs)),
    fresh: entry.freshUntil ?? 0,
    delta: entry.deltaMs ?? 0,
    tags: entry.tags ?? [],
  };
}

function entryOf(row: Row): StoredEntry {
  return {
    value: bytes(row.value),
    freshUntil: Number(row.fresh_until ?? 0),
    deltaMs: Number(row.delta_ms ?? 0),
  };
}

/** The SQLSTATE of a driver error, through a wrapping StrataError's cause. */
function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
