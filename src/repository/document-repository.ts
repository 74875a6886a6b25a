import type { FieldSealer } from "../sealing/field-sealer.js";

/**
 * The storage port the cached layer sits on: row-level operations on one document table.
 * Adapters (Postgres over `pg`, Postgres over PGlite) live in `postgres/`.
 */

/** One stored document as the database returns it. `data` holds the document's fields (unvalidated). */
export interface StoredRow {
  readonly id: string;
  /** Starts at 1; +1 per update. */
  readonly rev: number;
  /**
   * Grows with every insert into the table (a sequence). A row deleted and created again under the same id gets a
   * larger incarnation, so cache fences order versions by (incarnation, rev) and never let an old life win.
   */
  readonly incarnation: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Runs after a transaction commits (never after a rollback). Errors are logged, never rethrown. */
export type AfterCommitHook = () => void | Promise<void>;

/**
 * A unit of work. Inside `Database.transaction`, every repository call made with the same scope runs in that
 * transaction; `afterCommit` hooks run once it has committed.
 */
export interface TransactionScope {
  readonly inTransaction: boolean;
  afterCommit(hook: AfterCommitHook): void;
}

/** Row operations on one table. Ids must already be validated UUIDs (the adapter re-checks and refuses others). */
export interface DocumentRepository {
  readonly document: string;
  /** The row, or `undefined`. */
  get(scope: TransactionScope, id: string, options?: { readonly signal?: AbortSignal }): Promise<StoredRow | undefined>;
  /** The rows that exist, in no particular order, in exactly one query (`WHERE id = ANY($1)`). */
  getMany(
    scope: TransactionScope,
    ids: ReadonlyArray<string>,
    options?: { readonly signal?: AbortSignal },
  ): Promise<StoredRow[]>;
  /** Inserts at rev 1. A taken id → ConflictError. */
  insert(scope: TransactionScope, id: string | undefined, data: Readonly<Record<string, unknown>>): Promise<StoredRow>;
  /**
   * Merges `patch` (validated by the caller) into the fields, top-level keys only, when the row is at `rev`; one
   * statement, so no read-modify-write window. Missing → NotFoundError; other rev → ConflictError with the current rev.
   * `unset`: top-level fields removed in the same statement.
   */
  update(
    scope: TransactionScope,
    id: string,
    rev: number,
    patch: Readonly<Record<string, unknown>>,
    unset?: ReadonlyArray<string>,
  ): Promise<StoredRow>;
  /** Deletes the row (at `rev`, when given) and returns it. Missing → NotFoundError; other rev → ConflictError. */
  delete(scope: TransactionScope, id: string, rev: number | undefined): Promise<StoredRow>;
}

/** A connection to one database, owning transactions and creating repositories for tables. */
export interface Database {
  /** A scope for work outside any transaction (each call autocommits). */
  readonly autocommit: TransactionScope;
  /** Runs `fn` in a transaction; commits when it resolves, rolls back when it throws, then runs afterCommit hooks. */
  transaction<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /**
   * `options.tenant`: the tenant whose rows every statement reads and writes (a table with a tenant column);
   * `options.sealed`: seals and opens the document's sealed fields.
   */
  repository(document: string, table: TableRef, options?: RepositoryOptions): DocumentRepository;
  /** Creates missing tables (idempotent; never drops or alters data). */
  migrate(tables: ReadonlyArray<TableRef>): Promise<void>;
  /** Refuses existing tables whose columns are missing or of another type; creates nothing (`migrate: false`). */
  verify(tables: ReadonlyArray<TableRef>): Promise<void>;
  /**
   * What tells this database apart from others however it was reached (server start time, port, database oid), or
   * undefined when that cannot be known (an in-process PGlite is its own database).
   */
  identity(): Promise<string | undefined>;
  /** Fails with a clear message when the server does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface TableRef {
  readonly schema: string;
  readonly table: string;
  /** The table has a `tenant` column (primary key `(tenant, id)`): a tenant-scoped document's. */
  readonly tenant?: boolean;
}

/** How one repository narrows and transforms its table's rows. */
export interface RepositoryOptions {
  /** Every statement filters on (and inserts) this tenant. */
  readonly tenant?: string | undefined;
  /** Seals declared fields on write, opens them on read. */
  readonly sealed?: FieldSealer | undefined;
}
