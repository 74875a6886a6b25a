/**
 * The query port the SQL repository runs on, so one implementation serves every Postgres engine.
 *
 * Exports: `SqlRow`, `SqlResult`, `SqlExecutor`, `SqlDriver`.
 * Adapters: `pgDriver` (node-postgres pool, `pg-driver.ts`), `pgliteDriver` (in-process WASM Postgres, `pglite-driver.ts`).
 */

export type SqlRow = Record<string, unknown>;

export interface SqlResult<R extends SqlRow = SqlRow> {
  readonly rows: R[];
}

/** Runs one statement with positional parameters (`$1`, `$2`, …). Errors carry the server's SQLSTATE in `code`. */
export interface SqlExecutor {
  query<R extends SqlRow = SqlRow>(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult<R>>;
}

export interface SqlDriver extends SqlExecutor {
  /** Where the server is, safe to print (`host:port`, never credentials). */
  readonly endpoint: string;
  /** True when statements run in this process (PGlite): no connection, and answers may come in microtasks. */
  readonly inProcess?: boolean;
  /**
   * Starts an in-process engine (PGlite: loads the package and creates the instance); idempotent. `ping()` awaits it
   * before its timer starts: a slow start on a busy machine is not an unreachable server. Absent on network drivers,
   * whose connecting is part of what the ping bounds.
   */
  open?(): Promise<void>;
  /**
   * Runs `fn` on one connection inside BEGIN … COMMIT; rolls back and rethrows when `fn` throws or COMMIT fails.
   * Resolves only once COMMIT has succeeded.
   */
  transaction<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Opens a dedicated session that LISTENs on `channel` and calls `onNotify` for each notification, until `close()`;
   * `onLost` is called once if the session drops (the caller listens again). Absent where there is no such session
   * (PGlite: every writer is in this process).
   */
  listen?(channel: string, onNotify: () => void, onLost: (error: Error) => void): Promise<SqlListener>;
  /** Releases what the driver created; a pool or PGlite instance supplied by the caller stays open. Idempotent. */
  close(): Promise<void>;
}

/** A LISTEN session opened by `SqlDriver.listen`. */
export interface SqlListener {
  /** Ends the session. Idempotent. */
  close(): Promise<void>;
}
