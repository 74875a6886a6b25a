import type { CaptureMode } from "../../change-capture/capture-stats.js";
import { checkKnownKeys, checkName, checkObject, checkTimerDelay } from "../../kernel/check-options.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { TableRef } from "../../repository/document-repository.js";
import type { PgPoolLike } from "../../repository/postgres/pg-driver.js";
import { pgDriver } from "../../repository/postgres/pg-driver.js";
import type { PGliteLike } from "../../repository/postgres/pglite-driver.js";
import { loadPglite, pgliteDriver } from "../../repository/postgres/pglite-driver.js";
import { qualifiedTableName } from "../../repository/postgres/quote-ident.js";
import { createSqlDatabase } from "../../repository/postgres/sql-database.js";
import type { SqlDriver } from "../../repository/postgres/sql-driver.js";
import type { DocumentsModule, ModuleEnv } from "../module.js";
import { type DataLocation, postgresUrlLocation } from "../route-conflicts.js";
import {
  type ChangeRelayOptions,
  captureModule,
  type DocumentCaptureOption,
  documentCaptureMode,
} from "./postgres-change-capture.js";

/** Where one document's rows live. */
export interface PostgresDocumentOptions {
  /**
   * Table name; no two documents of one database may share a table.
   * @default the document name
   */
  readonly table?: string;
  /**
   * Schema of the table.
   * @default "public"
   */
  readonly schema?: string;
  /**
   * Invalidate this document's cached entries from Postgres itself, so writes that bypass the library (psql, a
   * migration, another service, a writer killed after COMMIT) are seen too: `true` / `"outbox"` (triggers and an
   * outbox table, installed with the migration; any Postgres, PGlite too) or `"logical"` (a pgoutput slot). See
   * `changeRelay` and the change-capture recipe.
   * @default false
   */
  readonly changeCapture?: DocumentCaptureOption;
}

/** Options of postgresModule: exactly one of `url`, `pool` or `pglite`. Checked at once (ConfigurationError). */
export interface PostgresModuleOptions {
  /** `postgres://…`: stratacache owns the pool and ends it on stop(). */
  readonly url?: string;
  /** Your `pg.Pool` (any copy or version of `pg`: recognised by `query` and `connect`); left open on stop(). */
  readonly pool?: PgPoolLike;
  /** A PGlite instance (left open on stop()), or `true` for an in-memory one stratacache creates and closes. */
  readonly pglite?: PGliteLike | true;
  /** Document name → where its rows live; at least one. */
  readonly documents: Readonly<Record<string, PostgresDocumentOptions>>;
  /**
   * Create missing tables at start. Never drops or alters.
   * @default true
   */
  readonly migrate?: boolean;
  /** Called with each statement's text before it is sent (statistics, tests). */
  readonly onQuery?: (sql: string) => void;
  /**
   * With `url`: how long one statement may take before it fails on the client (default 10000 ms), so a hung or
   * partitioned server turns into an error — which `grace` can answer with a stale entry — instead of a read that
   * never returns. A `pool` you pass keeps its own `query_timeout`; PGlite runs in-process and has none.
   * @default 10000
   */
  readonly queryTimeoutMs?: number;
  /**
   * With `url`: send the library's parameterised statements as named prepared statements, parsed and planned once
   * per connection (a read by id costs Postgres far less CPU). Set false behind a pooler that cannot carry prepared
   * statements across server connections (PgBouncer in transaction mode before 1.21). A `pool` you pass always gets
   * unnamed statements; PGlite has none.
   * @default true
   */
  readonly preparedStatements?: boolean;
  /** How this runtime relays the changes of documents with `changeCapture` (see ChangeRelayOptions). */
  readonly changeRelay?: ChangeRelayOptions;
}

const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/**
 * Routes documents to tables in one Postgres database. Validated now; connects at `runtime.start()`.
 *
 * @example
 * ```ts
 * import { createRuntime, postgresModule } from "stratacache";
 *
 * const runtime = createRuntime({
 *   modules: [
 *     postgresModule({
 *       url: "postgres://postgres@127.0.0.1:5432/app",
 *       documents: { products: { table: "products", schema: "shop" } },
 *       queryTimeoutMs: 2_000,
 *     }),
 *   ],
 * });
 * await runtime.start(); // creates shop.products when missing
 * await runtime.stop();
 * ```
 */
export function postgresModule(options: PostgresModuleOptions): DocumentsModule {
  const opts = checkObject(options, "postgresModule");
  checkKnownKeys(
    opts,
    ["url", "pool", "pglite", "documents", "migrate", "onQuery", "queryTimeoutMs", "preparedStatements", "changeRelay"],
    "postgresModule",
  );
  const sources = ["url", "pool", "pglite"].filter((key) => opts[key] !== undefined);
  if (sources.length !== 1) throw new ConfigurationError("postgresModule", "needs exactly one of url, pool or pglite");
  if (opts.url !== undefined && (typeof opts.url !== "string" || !/^postgres(ql)?:\/\//.test(opts.url))) {
    throw new ConfigurationError("postgresModule.url", "must be a postgres:// or postgresql:// url");
  }
  if (opts.pglite !== undefined && opts.pglite !== true && typeof (opts.pglite as PGliteLike).query !== "function") {
    throw new ConfigurationError("postgresModule.pglite", "must be a PGlite instance or true");
  }
  if (opts.pool !== undefined && !isPgPool(opts.pool)) {
    throw new ConfigurationError("postgresModule.pool", "must be a pg.Pool");
  }
  const migrate = opts.migrate ?? true;
  if (typeof migrate !== "boolean") throw new ConfigurationError("postgresModule.migrate", "must be a boolean");
  if (opts.onQuery !== undefined && typeof opts.onQuery !== "function") {
    throw new ConfigurationError("postgresModule.onQuery", "must be a function");
  }
  const preparedStatements = opts.preparedStatements ?? true;
  if (typeof preparedStatements !== "boolean") {
    throw new ConfigurationError("postgresModule.preparedStatements", "must be a boolean");
  }
  const queryTimeoutMs =
    opts.queryTimeoutMs === undefined
      ? DEFAULT_QUERY_TIMEOUT_MS
      : checkTimerDelay(opts.queryTimeoutMs, "postgresModule.queryTimeoutMs");
  const routes = new Map<string, TableRef>();
  const captureModes = new Map<string, CaptureMode>();
  for (const [name, value] of Object.entries(checkObject(opts.documents, "postgresModule.documents"))) {
    const path = `postgresModule.documents.${name}`;
    checkName(name, path);
    const doc = checkObject(value, path);
    checkKnownKeys(doc, ["table", "schema", "changeCapture"], path);
    const captureMode = documentCaptureMode(doc.changeCapture, `${path}.changeCapture`);
    if (captureMode !== undefined) captureModes.set(name, captureMode);
    const table: TableRef = {
      table: identifier(doc.table ?? name, `${path}.table`),
      schema: identifier(doc.schema ?? "public", `${path}.schema`),
    };
    qualifiedTableName(table); // refuses names Postgres would truncate or cannot quote
    routes.set(name, table);
  }
  if (routes.size === 0) throw new ConfigurationError("postgresModule.documents", "must route at least one document");
  let driver: SqlDriver | undefined;
  const changeCapture = captureModule(
    captureModes,
    routes,
    opts.changeRelay,
    typeof opts.url === "string" ? opts.url : undefined,
    () => driver,
    undefined,
  );

  return {
    kind: "documents",
    routes,
    migrate,
    location: locationOf(opts),
    changeCapture,
    async open(env: ModuleEnv) {
      // Fail start with the fix in the message when the optional peer is missing, before anything connects.
      if (options.pglite === true) await loadPglite();
      driver = driverFor(options, queryTimeoutMs, preparedStatements);
      return createSqlDatabase({
        driver,
        logger: env.logger,
        onQuery: options.onQuery,
      });
    },
  };
}

function driverFor(options: PostgresModuleOptions, queryTimeoutMs: number, preparedStatements: boolean): SqlDriver {
  if (options.url !== undefined) return pgDriver({ url: options.url, queryTimeoutMs, preparedStatements });
  if (options.pool !== undefined) return pgDriver({ pool: options.pool });
  return pgliteDriver(options.pglite === true ? {} : { pglite: options.pglite });
}

/** A url names a place; a pool or PGlite instance is its own place; every `pglite: true` is a fresh database. */
function locationOf(opts: Record<string, unknown>): DataLocation {
  if (typeof opts.url === "string") return postgresUrlLocation(opts.url);
  const source = opts.pool ?? opts.pglite;
  return typeof source === "object" && source !== null ? source : {};
}

/** A pool by shape, not `instanceof`: a pool from the caller's own copy of `pg` must fit. */
function isPgPool(value: unknown): value is PgPoolLike {
  if (typeof value !== "object" || value === null) return false;
  const pool = value as Record<string, unknown>;
  return typeof pool.query === "function" && typeof pool.connect === "function";
}

function identifier(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) throw new ConfigurationError(path, "must be a non-empty string");
  return value;
}
