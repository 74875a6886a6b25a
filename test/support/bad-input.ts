/**
 * The bad-input harness: runs one row of a table (a misuse of the public API) and checks the three things every
 * bad input must leave true — the caller got the right typed error (or the correct result), nothing was written to
 * Postgres or Redis, and the process is healthy (no unhandled rejection or uncaught exception, and the runtime
 * still serves a good read).
 *
 * Rows are plain data so that appending one is a one-line change:
 *
 *   { name: "get: id is a number", call: (t) => t.products.get(42 as never), expect: rejects(ValidationError, "VALIDATION") }
 */
import { Redis } from "ioredis";
import pg from "pg";
import { expect } from "vitest";
import type { StrataError, StrataErrorCode } from "../../src/index.js";

type ErrorClass = abstract new (...args: never[]) => StrataError;

/** The call must throw (or reject with) an instance of `type` with this `code`; `check` may look further. */
export interface RejectsExpectation {
  readonly kind: "rejects";
  readonly type: ErrorClass;
  readonly code: StrataErrorCode;
  readonly check?: (error: StrataError) => void;
}

/** The call must succeed; `check` asserts the result is the correct one. */
export interface ResolvesExpectation<C> {
  readonly kind: "resolves";
  readonly check: (value: unknown, context: C) => void | Promise<void>;
}

export type Expectation<C> = RejectsExpectation | ResolvesExpectation<C>;

export interface BadInputRow<C> {
  /** Unique across the whole table: it is the test's name. */
  readonly name: string;
  readonly call: (context: C) => unknown;
  readonly expect: Expectation<C>;
  /**
   * Redis keys this row may legitimately change (e.g. planted garbage a read replaces with the real entry). Every
   * other key, and every Postgres table, must be untouched. Default: none.
   */
  readonly redisKeysWritten?: (context: C) => ReadonlyArray<string>;
}

export function rejects(
  type: ErrorClass,
  code: StrataErrorCode,
  check?: (error: StrataError) => void,
): RejectsExpectation {
  return { kind: "rejects", type, code, ...(check ? { check } : {}) };
}

export function resolves<C>(check: (value: unknown, context: C) => void | Promise<void>): ResolvesExpectation<C> {
  return { kind: "resolves", check };
}

/** Watches for promises nobody handled and exceptions nobody caught, which would kill a production process. */
export class ProcessWatcher {
  readonly problems: string[] = [];
  readonly #onRejection = (reason: unknown) => {
    this.problems.push(`unhandled rejection: ${describe(reason)}`);
  };
  readonly #onException = (error: unknown) => {
    this.problems.push(`uncaught exception: ${describe(error)}`);
  };

  install(): void {
    process.on("unhandledRejection", this.#onRejection);
    process.on("uncaughtException", this.#onException);
  }

  uninstall(): void {
    process.off("unhandledRejection", this.#onRejection);
    process.off("uncaughtException", this.#onException);
  }

  /** Takes what was seen since the last call. */
  take(): string[] {
    return this.problems.splice(0);
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

/** Every user table of a database, each with an md5 of its rows: equal snapshots mean nothing was written. */
export async function snapshotPostgres(client: pg.Client): Promise<Record<string, string>> {
  const tables = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2`,
  );
  const out: Record<string, string> = {};
  for (const { schema, name } of tables.rows) {
    const qualified = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    const digest = await client.query<{ md5: string; n: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5, count(*) AS n FROM ${qualified} t`,
    );
    out[`${schema}.${name}`] = `${digest.rows[0]?.n} rows ${digest.rows[0]?.md5}`;
  }
  return out;
}

/** Every key of a (private) Redis: its type, serialized value and whether it has a TTL. */
export async function snapshotRedis(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      const [dump, pttl] = await Promise.all([redis.dumpBuffer(key), redis.pttl(key)]);
      // A key that expired between SCAN and DUMP is simply absent.
      if (dump === null) continue;
      out[key] = `${dump.toString("base64")} ${pttl >= 0 ? "ttl" : pttl === -1 ? "no-ttl" : "gone"}`;
    }
  } while (cursor !== "0");
  return out;
}

/** Lets rejections nobody handled surface (Node reports them once the microtask queue drains). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The servers a table's rows are checked against, and the checks. */
export class BadInputHarness {
  readonly watcher = new ProcessWatcher();
  #pg: pg.Client | undefined;
  #redis: Redis | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly redisUrl: string,
  ) {}

  async open(): Promise<void> {
    this.#pg = new pg.Client({ connectionString: this.databaseUrl });
    this.#pg.on("error", () => {});
    await this.#pg.connect();
    this.#redis = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.#redis.on("error", () => {});
    await this.#redis.connect();
    this.watcher.install();
  }

  async close(): Promise<void> {
    this.watcher.uninstall();
    await this.#pg?.end().catch(() => {});
    this.#redis?.disconnect();
  }

  /** A direct connection to the private Redis, for planting data. */
  get redis(): Redis {
    if (!this.#redis) throw new Error("harness not opened");
    return this.#redis;
  }

  /** A direct connection to the test database. */
  get pg(): pg.Client {
    if (!this.#pg) throw new Error("harness not opened");
    return this.#pg;
  }

  /**
   * Runs one row: snapshots both stores, calls, checks the outcome, snapshots again, then checks the process and
   * `healthy` (a good read through the runtime the row used).
   */
  async run<C>(row: BadInputRow<C>, context: C, healthy: () => Promise<void>): Promise<void> {
    this.watcher.take();
    const pgBefore = await snapshotPostgres(this.pg);
    const redisBefore = await snapshotRedis(this.redis);

    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await row.call(context) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const expectation = row.expect;
    if (expectation.kind === "rejects") {
      if (outcome.ok)
        throw new Error(`expected ${expectation.type.name} (${expectation.code}), but the call succeeded`);
      expect(outcome.error).toBeInstanceOf(expectation.type);
      expect((outcome.error as StrataError).code).toBe(expectation.code);
      expectation.check?.(outcome.error as StrataError);
    } else {
      if (!outcome.ok) throw outcome.error;
      await expectation.check(outcome.value, context);
    }

    await settle();
    expect(await snapshotPostgres(this.pg)).toEqual(pgBefore);
    const redisAfter = await snapshotRedis(this.redis);
    const allowed = new Set(row.redisKeysWritten?.(context) ?? []);
    const strip = (snapshot: Record<string, string>) =>
      Object.fromEntries(Object.entries(snapshot).filter(([key]) => !allowed.has(key)));
    expect(strip(redisAfter)).toEqual(strip(redisBefore));

    await healthy();
    await settle();
    expect(this.watcher.take()).toEqual([]);
  }
}

/** Names must be unique: each is a test name, and the table's size is counted by them. */
export function checkUniqueNames(rows: ReadonlyArray<{ readonly name: string }>): void {
  const seen = new Set<string>();
  for (const { name } of rows) {
    if (seen.has(name)) throw new Error(`duplicate bad-input row name: ${name}`);
    seen.add(name);
  }
}
