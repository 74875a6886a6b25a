import type { DocumentEntry, DocumentEntryStore, EntryPut, EntryRead, PutResult } from "../document-entry.js";
import { TOMBSTONE_REV } from "../document-entry.js";
import { decodeEntry, encodeEntry, encodeTombstone } from "../entry-envelope.js";
import { idKey } from "../key-layout.js";
import { bytes, type CacheSql, NOW_MS, postgresUnavailable, quoteTable } from "./cache-table.js";

interface PutItem {
  readonly key: string;
  /** null clears the entry (DocumentEntryStore.clear). */
  readonly envelope: Buffer | null;
  readonly ttlMs: number;
  readonly incarnation: number;
  readonly rev: number;
  readonly freshUntil: number;
}

/**
 * Versioned document entries in the Postgres cache table: the same fence as fence-script.ts, as one conditional
 * upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE`) on the entry's row, which holds the entry's version, its version
 * floor and its idle clock. The row lock Postgres takes for ON CONFLICT makes the check and the write one atomic step.
 * The fence reads the version columns, never the envelope; the rules are version-order.ts' `supersedes`:
 * a put lands unless the live floor (`floor_until` ahead) or the live entry holds a newer version, the same
 * incarnation's tombstone, or the same version at least as fresh. Keys the library did not write do not occur
 * (the table is ours), so the Redis fence's foreign-key and over-long-TTL rules have no counterpart here.
 */
export class PostgresEntryStore implements DocumentEntryStore {
  /** On PGlite the cache table is in this process: fills are made at once (DocumentEntryStore.inProcess). */
  readonly inProcess: boolean | undefined;
  readonly #t: string;
  readonly #put: string;

  constructor(
    private readonly sql: CacheSql,
    table: string,
    private readonly prefix: string,
    private readonly fingerprint: string,
  ) {
    this.inProcess = sql.inProcess;
    const t = quoteTable(table);
    this.#t = t;
    this.#put = `INSERT INTO ${t} AS c (key, value, expires_at, inc, rev, fresh_until, floor_inc, floor_rev, floor_until,
        idle_until)
      SELECT k, v, ${NOW_MS} + ttl, i, r, f,
        CASE WHEN $7::boolean THEN i END, CASE WHEN $7::boolean THEN r END,
        CASE WHEN $7::boolean THEN ${NOW_MS} + ttl END,
        CASE WHEN $8::bigint > 0 AND v IS NOT NULL AND r <> 'Infinity' THEN ${NOW_MS} + $8::bigint END
      FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[], $5::float8[], $6::bigint[]) AS u(k, v, ttl, i, r, f)
      ON CONFLICT (key) DO UPDATE SET
        value = excluded.value, expires_at = excluded.expires_at,
        inc = excluded.inc, rev = excluded.rev, fresh_until = excluded.fresh_until,
        floor_inc = CASE WHEN $7::boolean THEN excluded.floor_inc ELSE c.floor_inc END,
        floor_rev = CASE WHEN $7::boolean THEN excluded.floor_rev ELSE c.floor_rev END,
        floor_until = CASE WHEN $7::boolean THEN excluded.floor_until ELSE c.floor_until END,
        idle_until = CASE WHEN $8::bigint > 0 THEN excluded.idle_until ELSE c.idle_until END
      WHERE NOT (coalesce(c.floor_until > ${NOW_MS}, false) AND c.floor_inc IS NOT NULL
          AND (c.floor_inc > excluded.inc
            OR (c.floor_inc = excluded.inc AND (c.floor_rev = 'Infinity' OR c.floor_rev > excluded.rev))))
        AND NOT (c.value IS NOT NULL AND c.expires_at > ${NOW_MS} AND c.inc IS NOT NULL
          AND (c.inc > excluded.inc
            OR (c.inc = excluded.inc AND (c.rev = 'Infinity' OR c.rev > excluded.rev
              OR (c.rev = excluded.rev AND c.fresh_until >= excluded.fresh_until)))))
      RETURNING key`;
  }

  async read(id: string, slideMs = 0): Promise<EntryRead> {
    return (await this.readMany([id], slideMs))[0]!;
  }

  async readMany(ids: ReadonlyArray<string>, slideMs = 0): Promise<EntryRead[]> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => idKey(this.prefix, id));
    const { rows } =
      slideMs > 0
        ? // A sliding read pushes the idle clock back, and misses once it ran out (same as SLIDING_READ_LUA).
          await this.#q<{ key: string; value: unknown }>(
            "read (sliding)",
            `UPDATE ${this.#t} SET idle_until = ${NOW_MS} + $2
             WHERE key = ANY($1::text[]) AND expires_at > ${NOW_MS} AND value IS NOT NULL
               AND idle_until > ${NOW_MS}
             RETURNING key, value`,
            [keys, slideMs],
          )
        : await this.#q<{ key: string; value: unknown }>(
            "read",
            `SELECT key, value FROM ${this.#t}
             WHERE key = ANY($1::text[]) AND expires_at > ${NOW_MS} AND value IS NOT NULL`,
            [keys],
          );
    const found = new Map<string, string>();
    for (const row of rows) found.set(row.key, bytes(row.value).toString("utf8"));
    return keys.map((key) => {
      const text = found.get(key);
      return text === undefined ? "miss" : decodeEntry(this.fingerprint, text);
    });
  }

  async put(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    return (await this.#fence([this.#item(id, entry, ttlMs)], slideMs, false))[0]!;
  }

  async writeThrough(id: string, entry: DocumentEntry, ttlMs: number, slideMs = 0): Promise<PutResult> {
    return (await this.#fence([this.#item(id, entry, ttlMs)], slideMs, true))[0]!;
  }

  async putMany(items: ReadonlyArray<EntryPut>, slideMs = 0): Promise<PutResult[]> {
    if (items.length === 0) return [];
    return this.#fence(
      items.map(({ id, entry, ttlMs }) => this.#item(id, entry, ttlMs)),
      slideMs,
      false,
    );
  }

  async clear(id: string, incarnation: number, rev: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const item = { key: idKey(this.prefix, id), envelope: null, ttlMs, incarnation, rev, freshUntil: 0 };
    return (await this.#fence([item], slideMs, true))[0]!;
  }

  async tombstone(id: string, incarnation: number, ttlMs: number, slideMs = 0): Promise<PutResult> {
    const envelope = Buffer.from(encodeTombstone(this.fingerprint, incarnation, Date.now()), "utf8");
    const item = { key: idKey(this.prefix, id), envelope, ttlMs, incarnation, rev: TOMBSTONE_REV, freshUntil: 0 };
    return (await this.#fence([item], slideMs, true))[0]!;
  }

  #item(id: string, entry: DocumentEntry, ttlMs: number): PutItem {
    return {
      key: idKey(this.prefix, id),
      envelope: Buffer.from(encodeEntry(this.fingerprint, entry), "utf8"),
      ttlMs,
      incarnation: entry.incarnation,
      rev: entry.rev,
      freshUntil: entry.freshUntil,
    };
  }

  async #fence(items: ReadonlyArray<PutItem>, slideMs: number, raiseFloor: boolean): Promise<PutResult[]> {
    // One statement may not touch a row twice: a batch naming an id twice is fenced one item at a time.
    if (new Set(items.map((item) => item.key)).size !== items.length) {
      const out: PutResult[] = [];
      for (const item of items) out.push(...(await this.#fence([item], slideMs, raiseFloor)));
      return out;
    }
    const { rows } = await this.#q<{ key: string }>("fenced put", this.#put, [
      items.map((item) => item.key),
      items.map((item) => item.envelope),
      items.map((item) => Math.max(1, Math.ceil(item.ttlMs))),
      items.map((item) => item.incarnation),
      items.map((item) => item.rev),
      items.map((item) => item.freshUntil),
      raiseFloor,
      slideMs,
    ]);
    const stored = new Set(rows.map((row) => row.key));
    return items.map((item) => (stored.has(item.key) ? "stored" : "rejected"));
  }

  async #q<R extends Record<string, unknown>>(operation: string, text: string, params: ReadonlyArray<unknown>) {
    try {
      return await this.sql.query<R>(text, params);
    } catch (error) {
      throw postgresUnavailable(operation, error);
    }
  }
}
