/**
 * `Database` over any `SqlDriver`: scopes, transactions with afterCommit hooks, migration, ping.
 *
 * Exports: `createSqlDatabase(options: SqlDatabaseOptions): Database`, `SqlDatabaseOptions`.
 *
 * - Transactions: hooks run in order after COMMIT succeeds, awaited, outside the transaction; on rollback (fn throws,
 *   or COMMIT fails) they are dropped and the error is rethrown.
 * - Nested `transaction()` (called while another is running in the same async context) becomes a SAVEPOINT on the
 *   outer connection: its throw rolls back only its own work and drops only its own hooks; on success its hooks join
 *   the outer transaction's and run after the outer COMMIT. (A second connection could deadlock on the outer's row
 *   locks, and PGlite has only one.) Sibling savepoints on one scope run one after another.
 * - Autocommit: `afterCommit` runs the hook immediately (every autocommit call has committed when it resolves) and
 *   returns a promise the caller may await.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { RuntimeStateError, UnavailableError } from "../../kernel/errors.js";
import { consoleLogger } from "../../kernel/logger.js";
import { rejectWith, withTimeout } from "../../kernel/with-timeout.js";
import type {
  AfterCommitHook,
  Database,
  DocumentRepository,
  RepositoryOptions,
  TableRef,
  TransactionScope,
} from "../document-repository.js";
import { qualifiedTableName } from "./quote-ident.js";
import { SqlDocumentRepository } from "./sql-document-repository.js";
import type { SqlDriver, SqlExecutor, SqlResult, SqlRow } from "./sql-driver.js";
import type { SqlLogger } from "./sql-logger.js";
import { createScope, runAfterCommitHooks, type ScopeState } from "./sql-scope.js";
import { migrateTables, verifyTables } from "./table-migration.js";

export interface SqlDatabaseOptions {
  readonly driver: SqlDriver;
  /** Receives failures that must not throw (afterCommit hooks). Default: console.error. */
  readonly logger?: SqlLogger | undefined;
  /**
   * Called with each statement's text just before it is sent (repository statements, migration, ping, savepoints; not
   * the BEGIN/COMMIT/ROLLBACK a driver issues). For statistics and tests; must not throw (errors are logged).
   */
  readonly onQuery?: ((sql: string) => void) | undefined;
  /**
   * Upper bound for `ping()`, connecting included (default 5000 ms). An in-process engine's start (PGlite) is awaited
   * before the timer starts.
   */
  readonly pingTimeoutMs?: number | undefined;
}

export function createSqlDatabase(options: SqlDatabaseOptions): Database {
  return new SqlDatabase(options);
}

class SqlDatabase implements Database {
  readonly autocommit: TransactionScope;
  readonly #driver: SqlDriver;
  readonly #logger: SqlLogger;
  readonly #onQuery: ((sql: string) => void) | undefined;
  readonly #pingTimeoutMs: number;
  /** The innermost transaction running in the current async context, to turn nested calls into savepoints. */
  readonly #current = new AsyncLocalStorage<ScopeState>();
  #closed = false;

  constructor(options: SqlDatabaseOptions) {
    this.#driver = options.driver;
    this.#logger = options.logger ?? consoleLogger;
    this.#onQuery = options.onQuery;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 5_000;
    this.autocommit = createScope(this.#state(this.#instrument(this.#driver), undefined));
  }

  async transaction<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T> {
    this.#checkOpen();
    const outer = this.#current.getStore();
    if (outer !== undefined && !outer.finished && outer.owner === this) return this.#savepoint(outer, fn);
    let hooks: AfterCommitHook[] = [];
    const value = await this.#driver.transaction(async (executor) => {
      const state = this.#state(this.#instrument(executor), []);
      hooks = state.hooks ?? [];
      try {
        return await this.#current.run(state, () => fn(createScope(state)));
      } finally {
        // Before COMMIT: from here on, late calls on this scope must not reach a connection we are giving back.
        state.finished = true;
      }
    });
    await runAfterCommitHooks(hooks, this.#logger);
    return value;
  }

  repository(document: string, table: TableRef, options?: RepositoryOptions): DocumentRepository {
    return new SqlDocumentRepository(this, document, table, options);
  }

  async migrate(tables: ReadonlyArray<TableRef>): Promise<void> {
    this.#checkOpen();
    // Validate every name before creating anything.
    for (const table of tables) qualifiedTableName(table);
    const executor = this.#instrument(this.#driver);
    await migrateTables(executor, tables);
  }

  async verify(tables: ReadonlyArray<TableRef>): Promise<void> {
    this.#checkOpen();
    for (const table of tables) qualifiedTableName(table);
    await verifyTables(this.#instrument(this.#driver), tables);
  }

  async identity(): Promise<string | undefined> {
    this.#checkOpen();
    if (this.#driver.endpoint.startsWith("pglite:")) return undefined;
    // Readable by any role (unlike system_identifier or data_directory); start time and port tell servers apart.
    const result = await this.#instrument(this.#driver).query<{ identity: string }>(
      `SELECT pg_postmaster_start_time()::text || '|' || current_setting('port') || '|' ||
              (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())::text AS identity`,
    );
    return result.rows[0]?.identity;
  }

  async ping(): Promise<void> {
    this.#checkOpen();
    const ms = this.#pingTimeoutMs;
    try {
      await this.#driver.open?.();
      await withTimeout(this.#instrument(this.#driver).query("SELECT 1"), ms, rejectWith(`no answer within ${ms} ms`));
    } catch (error) {
      // The driver already wrapped its own error: report (and keep) the original.
      const cause = error instanceof UnavailableError ? error.cause : error;
      const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
      throw new UnavailableError("postgres", `Postgres is unreachable at ${this.#driver.endpoint}: ${reason}`, {
        cause,
      });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#driver.close();
  }

  async #savepoint<T>(outer: ScopeState, fn: (scope: TransactionScope) => Promise<T>): Promise<T> {
    const previous = outer.nestedTail;
    let done = () => {};
    outer.nestedTail = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    const name = `strata_savepoint_${++outer.savepoints}`;
    const inner = this.#state(outer.executor, []);
    try {
      await outer.executor.query(`SAVEPOINT ${name}`);
      let value: T;
      try {
        value = await this.#current.run(inner, () => fn(createScope(inner)));
      } catch (error) {
        inner.finished = true;
        // If this fails too, the outer transaction is aborted anyway and will roll back: report the original error.
        await outer.executor.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
        throw error;
      }
      inner.finished = true;
      await outer.executor.query(`RELEASE SAVEPOINT ${name}`);
      outer.hooks?.push(...(inner.hooks ?? []));
      return value;
    } finally {
      done();
    }
  }

  #state(executor: SqlExecutor, hooks: AfterCommitHook[] | undefined): ScopeState {
    return {
      owner: this,
      executor,
      logger: this.#logger,
      hooks,
      finished: false,
      nestedTail: Promise.resolve(),
      savepoints: 0,
    };
  }

  #instrument(executor: SqlExecutor): SqlExecutor {
    return {
      query: <R extends SqlRow>(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult<R>> => {
        this.#checkOpen();
        if (this.#onQuery) {
          try {
            this.#onQuery(text);
          } catch (error) {
            this.#logger.error("onQuery callback failed", { error });
          }
        }
        return executor.query<R>(text, params);
      },
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw new RuntimeStateError("the database is closed");
  }
}
