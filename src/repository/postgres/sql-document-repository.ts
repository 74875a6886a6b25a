/**
 * `DocumentRepository` over one table, for any `SqlDriver` (created by `Database.repository`).
 *
 * Exports: `SqlDocumentRepository`.
 *
 * Every id and rev is checked before SQL is built, so bad input sends nothing. Writes are single statements guarded by
 * `rev`, so there is no read-modify-write window; only a write that matched nothing pays a second query, to tell
 * "missing" from "stale". `updated_at` on update is `clock_timestamp()`, not `now()`: `now()` is the transaction's
 * start, so a transaction that began before a concurrent update committed would stamp an older time on a newer rev;
 * the statement's own clock, taken while holding the row lock, keeps `updated_at` increasing with `rev`. Inserts use
 * the column defaults (`now()`), making `created_at` = `updated_at` at rev 1.
 */

import { randomUUID } from "node:crypto";
import { abortableCall } from "../../kernel/abortable.js";
import { ConflictError, NotFoundError } from "../../kernel/errors.js";
import type { FieldSealer } from "../../sealing/field-sealer.js";
import { checkDocumentId as checkId, checkRev } from "../document-id.js";
import type {
  DocumentRepository,
  RepositoryOptions,
  StoredRow,
  TableRef,
  TransactionScope,
} from "../document-repository.js";
import { insertStatement } from "./incarnation.js";
import { qualifiedTableName } from "./quote-ident.js";
import type { SqlExecutor, SqlRow } from "./sql-driver.js";
import { resolveScope } from "./sql-scope.js";
import { SqlState, sqlStateOf } from "./sql-state.js";
import { rowColumns, toNumber, toStoredRow } from "./stored-row.js";

interface Statements {
  readonly get: string;
  readonly getMany: string;
  readonly insert: string;
  readonly update: string;
  readonly delete: string;
  readonly deleteAtRev: string;
  readonly currentRev: string;
}

export class SqlDocumentRepository implements DocumentRepository {
  readonly #sql: Statements;
  /** The tenant every statement filters on (passed as its last parameter); undefined for a table without tenants. */
  readonly #tenant: string | undefined;
  readonly #sealed: FieldSealer | undefined;

  constructor(
    /** The database whose scopes this repository accepts. */
    private readonly owner: object,
    readonly document: string,
    table: TableRef,
    options?: RepositoryOptions,
  ) {
    const t = qualifiedTableName(table);
    this.#tenant = options?.tenant;
    this.#sealed = options?.sealed;
    // `$T`: the tenant, the last parameter of each statement (see #params).
    const and = (n: number) => (this.#tenant === undefined ? "" : ` AND tenant = $${n}`);
    this.#sql = {
      get: `SELECT ${rowColumns} FROM ${t} WHERE id = $1${and(2)}`,
      getMany: `SELECT ${rowColumns} FROM ${t} WHERE id = ANY($1::uuid[])${and(2)}`,
      insert: insertStatement(t, rowColumns, this.#tenant !== undefined), // incarnation: see incarnation.ts
      update: `UPDATE ${t} SET data = (data || $3::jsonb) - $4::text[], rev = rev + 1, updated_at = clock_timestamp() WHERE id = $1 AND rev = $2${and(5)} RETURNING ${rowColumns}`,
      delete: `DELETE FROM ${t} WHERE id = $1${and(2)} RETURNING ${rowColumns}`,
      deleteAtRev: `DELETE FROM ${t} WHERE id = $1 AND rev = $2${and(3)} RETURNING ${rowColumns}`,
      currentRev: `SELECT rev FROM ${t} WHERE id = $1${and(2)}`,
    };
  }

  /** A statement's parameters, with the tenant appended when the table has one. */
  #params(params: unknown[]): unknown[] {
    if (this.#tenant !== undefined) params.push(this.#tenant);
    return params;
  }

  /** The row as stored, with sealed fields opened. */
  #row(row: SqlRow): StoredRow {
    const stored = toStoredRow(row);
    return this.#sealed === undefined ? stored : { ...stored, data: this.#sealed.open(stored.id, stored.data) };
  }

  async get(
    scope: TransactionScope,
    id: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<StoredRow | undefined> {
    const key = checkId(this.document, id);
    const executor = this.#executor(scope);
    const result = await abortableCall(() => executor.query(this.#sql.get, this.#params([key])), options?.signal);
    const row = result.rows[0];
    return row === undefined ? undefined : this.#row(row);
  }

  async getMany(
    scope: TransactionScope,
    ids: ReadonlyArray<string>,
    options?: { readonly signal?: AbortSignal },
  ): Promise<StoredRow[]> {
    const keys = [...new Set(ids.map((id, index) => checkId(this.document, id, index, "ids")))];
    const executor = this.#executor(scope);
    if (keys.length === 0) return abortableCall(() => Promise.resolve([]), options?.signal);
    const result = await abortableCall(() => executor.query(this.#sql.getMany, this.#params([keys])), options?.signal);
    return result.rows.map((row) => this.#row(row));
  }

  async insert(
    scope: TransactionScope,
    id: string | undefined,
    data: Readonly<Record<string, unknown>>,
  ): Promise<StoredRow> {
    let key = id === undefined ? null : checkId(this.document, id);
    const executor = this.#executor(scope);
    // Sealed fields are bound to the id: pick it here rather than in Postgres.
    if (this.#sealed !== undefined) {
      if (key === null) key = randomUUID();
      data = this.#sealed.seal(key, data);
    }
    try {
      const result = await executor.query(this.#sql.insert, this.#params([key, JSON.stringify(data)]));
      return this.#returned(result.rows, key ?? "(generated)");
    } catch (error) {
      if (key !== null && sqlStateOf(error) === SqlState.uniqueViolation) {
        throw new ConflictError(this.document, key, `${this.document} ${key} already exists`);
      }
      throw error;
    }
  }

  async update(
    scope: TransactionScope,
    id: string,
    rev: number,
    patch: Readonly<Record<string, unknown>>,
    unset: ReadonlyArray<string> = [],
  ): Promise<StoredRow> {
    const key = checkId(this.document, id);
    const expected = checkRev(this.document, rev);
    const executor = this.#executor(scope);
    if (this.#sealed !== undefined) patch = this.#sealed.seal(key, patch);
    const result = await executor.query(this.#sql.update, this.#params([key, expected, JSON.stringify(patch), unset]));
    if (result.rows.length > 0) return this.#returned(result.rows, key);
    throw await this.#writeMissed(executor, key, expected, "update");
  }

  async delete(scope: TransactionScope, id: string, rev: number | undefined): Promise<StoredRow> {
    const key = checkId(this.document, id);
    const expected = rev === undefined ? undefined : checkRev(this.document, rev);
    const executor = this.#executor(scope);
    const result =
      expected === undefined
        ? await executor.query(this.#sql.delete, this.#params([key]))
        : await executor.query(this.#sql.deleteAtRev, this.#params([key, expected]));
    if (result.rows.length > 0) return this.#returned(result.rows, key);
    if (expected === undefined) throw new NotFoundError(this.document, [key]);
    throw await this.#writeMissed(executor, key, expected, "delete");
  }

  #executor(scope: TransactionScope): SqlExecutor {
    return resolveScope(scope, this.owner).executor;
  }

  #returned(rows: SqlRow[], id: string): StoredRow {
    const row = rows[0];
    if (row === undefined) throw new Error(`${this.document} ${id}: the statement returned no row`);
    return this.#row(row);
  }

  /** A guarded write matched nothing: one read decides between "gone" and "someone else's rev". */
  async #writeMissed(
    executor: SqlExecutor,
    id: string,
    expected: number,
    action: string,
  ): Promise<NotFoundError | ConflictError> {
    const current = (await executor.query(this.#sql.currentRev, this.#params([id]))).rows[0];
    if (current === undefined) return new NotFoundError(this.document, [id]);
    const currentRev = toNumber(current.rev, "rev");
    return new ConflictError(
      this.document,
      id,
      `${this.document} ${id}: cannot ${action} at rev ${expected}, the current rev is ${currentRev}`,
      currentRev,
    );
  }
}
