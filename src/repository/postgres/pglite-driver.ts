/**
 * `SqlDriver` over PGlite (Postgres compiled to WASM, in process): the embedded default and a second engine for tests.
 *
 * Exports: `pgliteDriver(options?: PgliteDriverOptions): SqlDriver`, `PgliteDriverOptions`, `PGliteLike`.
 * - `{ pglite }`: the caller's instance; we never close it.
 * - `{}` / `{ dataDir }`: we create one on first use (in memory unless `dataDir` is given) and close it on `close()`.
 *
 * `@electric-sql/pglite` is an optional peer: `PGliteLike` is the structural slice we use (a `PGlite` instance fits
 * it), and the package is only loaded, by dynamic `import()`, when we are asked to create an instance.
 */
import { ConfigurationError } from "../../kernel/errors.js";
import { postgresFailure } from "./postgres-failure.js";
import type { SqlDriver, SqlExecutor, SqlResult, SqlRow } from "./sql-driver.js";

/** What we need from a PGlite transaction (and from PGlite itself). */
export interface PGliteQueryable {
  /** Runs one statement with `$1…` parameters. */
  query<T>(query: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * The part of `PGlite` (`@electric-sql/pglite`) stratacache uses: pass your instance as
 * `postgresModule({ pglite })`; it is recognised by these members, and left open on `stop()`.
 */
export interface PGliteLike extends PGliteQueryable {
  /** Runs `callback` in one transaction (PGlite has a single connection). */
  transaction<T>(callback: (tx: PGliteQueryable) => Promise<T>): Promise<T>;
  /** Closes the instance (only when stratacache created it). */
  close(): Promise<void>;
  /** Whether the instance is closed. */
  readonly closed: boolean;
}

export interface PgliteDriverOptions {
  readonly pglite?: PGliteLike | undefined;
  /** Where a PGlite we create keeps its files (default: in memory). Ignored when `pglite` is given. */
  readonly dataDir?: string | undefined;
}

export function pgliteDriver(options: PgliteDriverOptions = {}): SqlDriver {
  return new PgliteDriver(options);
}

class PgliteDriver implements SqlDriver {
  readonly endpoint: string;
  readonly inProcess = true;
  readonly #owned: boolean;
  #instance: Promise<PGliteLike> | undefined;
  #closed = false;

  constructor(private readonly options: PgliteDriverOptions) {
    this.#owned = options.pglite === undefined;
    this.#instance = options.pglite ? Promise.resolve(options.pglite) : undefined;
    this.endpoint = `pglite:${options.pglite ? "supplied" : (options.dataDir ?? "memory")}`;
  }

  async open(): Promise<void> {
    try {
      await this.#db();
    } catch (error) {
      throw postgresFailure(error, this.endpoint);
    }
  }

  async query<R extends SqlRow>(text: string, params?: ReadonlyArray<unknown>): Promise<SqlResult<R>> {
    try {
      const db = await this.#db();
      const result = await db.query<R>(text, params ? [...params] : undefined);
      return { rows: result.rows };
    } catch (error) {
      throw postgresFailure(error, this.endpoint);
    }
  }

  async transaction<T>(fn: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    const db = await this.#db().catch((error: unknown) => {
      throw postgresFailure(error, this.endpoint);
    });
    // PGlite's own transaction() issues BEGIN/COMMIT/ROLLBACK and holds its exclusive lock meanwhile. What `fn`
    // throws passes through as is; the engine's own failures (BEGIN, COMMIT) become UnavailableError.
    const fromFn: { error?: unknown } = {};
    try {
      return await db.transaction(async (tx) => {
        try {
          return await fn({
            query: async <R extends SqlRow>(text: string, params?: ReadonlyArray<unknown>) => {
              try {
                const result = await tx.query<R>(text, params ? [...params] : undefined);
                return { rows: result.rows };
              } catch (error) {
                throw postgresFailure(error, this.endpoint);
              }
            },
          });
        } catch (error) {
          fromFn.error = error;
          throw error;
        }
      });
    } catch (error) {
      throw "error" in fromFn && fromFn.error === error ? error : postgresFailure(error, this.endpoint);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owned || this.#instance === undefined) return;
    const db = await this.#instance.catch(() => undefined);
    if (db && !db.closed) await db.close();
  }

  #db(): Promise<PGliteLike> {
    if (this.#closed) return Promise.reject(new Error(`${this.endpoint} is closed`));
    this.#instance ??= createPglite(this.options.dataDir);
    return this.#instance;
  }
}

async function createPglite(dataDir: string | undefined): Promise<PGliteLike> {
  const { PGlite } = await loadPglite();
  return PGlite.create(dataDir);
}

const PGLITE_PACKAGE = "@electric-sql/pglite";

/** What we use of the package, typed here so our declarations never name it (it may not be installed). */
interface PgliteModule {
  readonly PGlite: { create(dataDir?: string): Promise<PGliteLike> };
}

/**
 * Loads the optional peer `@electric-sql/pglite`; when it is not installed, a ConfigurationError that says how to fix
 * it (instead of Node's ERR_MODULE_NOT_FOUND at the first query).
 */
export async function loadPglite(): Promise<PgliteModule> {
  try {
    return await import("@electric-sql/pglite");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : "";
    if (code === "ERR_MODULE_NOT_FOUND" && message.includes(PGLITE_PACKAGE)) {
      throw new ConfigurationError(
        "postgresModule.pglite",
        `needs the optional peer dependency ${PGLITE_PACKAGE}, which is not installed: npm install ${PGLITE_PACKAGE}`,
      );
    }
    throw error;
  }
}
