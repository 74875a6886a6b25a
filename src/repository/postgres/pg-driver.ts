/**
 * `SqlDriver` over a node-postgres `Pool`.
 *
 * Exports: `pgDriver(options: PgDriverOptions): SqlDriver`, `PgDriverOptions`.
 * - `{ url }`: we create the pool (with a bounded connect timeout) and end it on `close()`.
 * - `{ pool }`: the caller's pool; we never end it and never attach listeners to it.
 *
 * A caller's pool is typed structurally (`PgPoolLike`, the calls we make), so our declarations never name `pg`'s
 * types (`@types/pg` is the consumer's choice) and any copy or version of `pg` fits.
 */
import pg from "pg";
import { postgresFailure } from "./postgres-failure.js";
import { quoteIdent } from "./quote-ident.js";
import type { SqlDriver, SqlExecutor, SqlListener, SqlResult, SqlRow } from "./sql-driver.js";
import { sqlStateOf } from "./sql-state.js";

export type PgDriverOptions =
  | {
      readonly url: string;
      /** Max pool size (default 10). */
      readonly max?: number | undefined;
      /** How long acquiring a new connection may take (default 5000 ms), so an unreachable server fails fast. */
      readonly connectTimeoutMs?: number | undefined;
      /** Client-side bound on each statement (pg `query_timeout`), so a hung server fails reads instead of hanging them. */
      readonly queryTimeoutMs?: number | undefined;
      /**
       * Send parameterised statements as named prepared statements (default true): Postgres parses and plans each
       * once per connection instead of on every call, which is most of its CPU for a read by id. Turn off behind a
       * pooler that cannot carry them across connections (PgBouncer in transaction mode before 1.21).
       */
      readonly preparedStatements?: boolean | undefined;
    }
  | { readonly pool: PgPoolLike };

/** What we call on a pool's client inside a transaction (a `pg.PoolClient` fits). */
export interface PgPoolClientLike {
  /** Runs one parameterised statement on this connection. */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** `release(error)` destroys the connection instead of returning it to the pool. */
  release(error?: Error | boolean): void;
  /** node-postgres clients are EventEmitters: 'error' fires when a checked-out connection drops. */
  on?(event: "error", listener: (error: Error) => void): unknown;
  /** Removes the listener `on` added, when the connection is released. */
  off?(event: "error", listener: (error: Error) => void): unknown;
}

/** The part of a node-postgres `pg.Pool` we use. */
export interface PgPoolLike {
  /** Runs one parameterised statement on any pooled connection (reads and single-statement writes). */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Checks out a connection for a transaction. */
  connect(): Promise<PgPoolClientLike>;
  /** Read only to name the endpoint in logs and errors. */
  readonly options?:
    | {
        /** The server's host. */
        readonly host?: string | undefined;
        /** The server's port. */
        readonly port?: number | undefined;
        /** The connection URL, when the pool was made from one (its password is never logged). */
        readonly connectionString?: string | undefined;
      }
    | undefined;
}

const defaultConnectTimeoutMs = 5_000;

export function pgDriver(options: PgDriverOptions): SqlDriver {
  if ("pool" in options) return new PgDriver(options.pool, undefined, false);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
  });
  // An idle client losing its connection emits on the pool; unhandled, that would crash the process. The next
  // checkout simply opens a new connection.
  pool.on("error", () => {});
  return new PgDriver(pool, () => pool.end(), options.preparedStatements ?? true);
}

/** At most this many distinct statements get a name (the repositories issue a handful per table); others go unnamed. */
const MAX_NAMED_STATEMENTS = 256;

class PgDriver implements SqlDriver {
  readonly endpoint: string;
  #closed = false;

  /** Statement text → its prepared-statement name; undefined when statements are sent unnamed. */
  readonly #names: Map<string, string> | undefined;

  constructor(
    private readonly pool: PgPoolLike,
    /** Ends the pool we created; undefined for a caller's pool. */
    private readonly end: (() => Promise<void>) | undefined,
    /** Only on a pool we created (a `pg.Pool`, so it takes a query config); a caller's pool is used as given. */
    prepare: boolean,
  ) {
    this.endpoint = describeEndpoint(pool);
    this.#names = prepare ? new Map() : undefined;
  }

  async query<R extends SqlRow>(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult<R>> {
    try {
      const name = params === undefined || params.length === 0 ? undefined : this.#nameOf(text);
      const result =
        name === undefined
          ? await this.pool.query(text, params as unknown[] | undefined)
          : await (this.pool as unknown as pg.Pool).query({ name, text, values: params as unknown[] });
      return { rows: result.rows as R[] };
    } catch (error) {
      throw postgresFailure(error, this.endpoint);
    }
  }

  /** pg prepares a named statement once per connection and then only binds it (statements without parameters stay unnamed). */
  #nameOf(text: string): string | undefined {
    const names = this.#names;
    if (names === undefined) return undefined;
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
      name = `strata_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  }

  async transaction<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw postgresFailure(error, this.endpoint);
    });
    // A checked-out client whose connection drops emits 'error' (the pool only listens on idle ones); unhandled, that
    // would kill the process. The failure reaches the caller through the statement that was running.
    const onError = () => {};
    client.on?.("error", onError);
    const executor: SqlExecutor = {
      query: async <R extends SqlRow>(text: string, params?: ReadonlyArray<unknown>) => {
        try {
          const result = await client.query(text, params as unknown[] | undefined);
          return { rows: result.rows as R[] };
        } catch (error) {
          throw postgresFailure(error, this.endpoint);
        }
      },
    };
    // A connection that failed BEGIN/COMMIT/ROLLBACK without a server error is in an unknown state: destroy it
    // instead of returning it to the pool.
    let broken: Error | undefined;
    const control = (statement: string) =>
      client.query(statement).catch((error: unknown) => {
        if (sqlStateOf(error) === undefined) broken = error instanceof Error ? error : new Error(String(error));
        throw postgresFailure(error, this.endpoint);
      });
    try {
      await control("BEGIN");
      let value: T;
      try {
        value = await fn(executor);
      } catch (error) {
        await control("ROLLBACK").catch(() => {});
        throw error;
      }
      // A failed COMMIT (deferred constraint, serialization failure) has ended the transaction server-side.
      await control("COMMIT");
      return value;
    } finally {
      client.off?.("error", onError);
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: () => void, onLost: (error: Error) => void): Promise<SqlListener> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw postgresFailure(error, this.endpoint);
    });
    // A pooled client is an EventEmitter; the structural type names only what transactions use.
    const emitter = client as PgPoolClientLike & { on(event: string, listener: (...args: unknown[]) => void): unknown };
    let done = false;
    const end = (error: Error | undefined) => {
      if (done) return;
      done = true;
      client.release(true); // destroyed, never back in the pool: it is still LISTENing
      if (error !== undefined) onLost(error);
    };
    emitter.on("error", (error) => end(error instanceof Error ? error : new Error(String(error))));
    emitter.on("end", () => end(new Error("the LISTEN session ended")));
    emitter.on("notification", () => onNotify());
    try {
      await client.query(`LISTEN ${quoteIdent(channel, "channel")}`);
    } catch (error) {
      done = true;
      client.release(true);
      throw postgresFailure(error, this.endpoint);
    }
    return {
      close: async () => end(undefined),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.end !== undefined) await this.end();
  }
}

/** `host:port` from the pool's settings, never the password. */
function describeEndpoint(pool: PgPoolLike): string {
  const options = pool.options ?? {};
  let host = options.host;
  let port = options.port === undefined ? undefined : String(options.port);
  if (options.connectionString) {
    try {
      const url = new URL(options.connectionString);
      host = decodeURIComponent(url.hostname) || url.searchParams.get("host") || host;
      port = url.port || port;
    } catch {
      // Not a URL (e.g. a keyword/value string): fall back to the discrete settings.
    }
  }
  return `${host || process.env.PGHOST || "localhost"}:${port || process.env.PGPORT || "5432"}`;
}
