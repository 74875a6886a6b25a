import type { z } from "zod";
import type { ValidationIssue } from "../kernel/errors.js";
import { ValidationError } from "../kernel/errors.js";
import { checkDocumentId, checkRev } from "../repository/document-id.js";
import type { DocumentRepository, StoredRow, TransactionScope } from "../repository/document-repository.js";
import type { CreateInput, Doc, DocumentSpec, Patch } from "../spec/document-spec.js";
import type { FieldCodec } from "../spec/field-codec.js";
import { findJsonIssue } from "../spec/json-value.js";
import { documentFromRow } from "./document-codec.js";
import type { ReadThroughCoordinator } from "./read-through-coordinator.js";

/** Writes of one document type (`ctx.document.command(spec)`). Each keeps every cache tier correct once it commits. */
export interface DocumentCommand<S extends DocumentSpec = DocumentSpec> {
  /** Validates and inserts at rev 1; `input.id` (a UUID) is optional. A taken id → ConflictError. */
  create(input: CreateInput<S>): Promise<Doc<S>>;
  /** Merges `patch` when the document is at `rev` (optimistic); otherwise ConflictError with the current rev. */
  update(id: string, rev: number, patch: Patch<S>): Promise<Doc<S>>;
  /** Deletes (at `rev`, when given). Missing → NotFoundError; other rev → ConflictError. */
  delete(id: string, rev?: number): Promise<void>;
}

/** The zod schemas a command validates with, built once per document. */
export interface CommandSchemas {
  readonly create: z.ZodObject;
  readonly patch: z.ZodType;
  /** Writes declared bigints as strings and revives Date/bigint fields; undefined when the fields have none. */
  readonly codec?: FieldCodec | undefined;
}

export class CachedDocumentCommand<S extends DocumentSpec> implements DocumentCommand<S> {
  constructor(
    private readonly coordinator: ReadThroughCoordinator,
    private readonly repository: DocumentRepository,
    private readonly schemas: CommandSchemas,
    private readonly scope: TransactionScope,
  ) {}

  async create(input: CreateInput<S>): Promise<Doc<S>> {
    const document = this.coordinator.document;
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new ValidationError(document, [{ path: [], message: "input must be an object", code: "invalid_type" }]);
    }
    const { id, ...fields } = input as Record<string, unknown>;
    const key = id === undefined ? undefined : checkDocumentId(document, id);
    const data = this.#storable(this.#validate(this.schemas.create, fields, "input"), "input");
    const row = await this.repository.insert(this.scope, key, data);
    await this.#afterCommit(row, "create");
    return documentFromRow(row, this.schemas.codec) as Doc<S>;
  }

  async update(id: string, rev: number, patch: Patch<S>): Promise<Doc<S>> {
    const document = this.coordinator.document;
    const key = checkDocumentId(document, id);
    checkRev(document, rev);
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      throw new ValidationError(
        document,
        [{ path: [], message: "patch must be an object", code: "invalid_type" }],
        "patch",
      );
    }
    const unset = this.#checkPatchKeys(patch as Record<string, unknown>);
    const validated = this.#validate(this.schemas.patch, patch, "patch");
    // A patch changes only the keys it names: drop defaults the partial schema may have filled in, and the keys
    // being unset (removed from the stored fields below, not written as a value).
    for (const name of Object.keys(validated)) {
      if (!Object.hasOwn(patch, name) || (unset.includes(name) && validated[name] === undefined))
        delete validated[name];
    }
    const removed = unset.filter((name) => !Object.hasOwn(validated, name));
    const data = this.#storable(validated, "patch");
    const row = await this.repository.update(this.scope, key, rev, data, removed);
    await this.#afterCommit(row, "update");
    return documentFromRow(row, this.schemas.codec) as Doc<S>;
  }

  async delete(id: string, rev?: number): Promise<void> {
    const document = this.coordinator.document;
    const key = checkDocumentId(document, id);
    if (rev !== undefined) checkRev(document, rev);
    const row = await this.repository.delete(this.scope, key, rev);
    await this.#afterCommit(row, "delete");
  }

  /** Outside a transaction the write has committed: make the caches correct before resolving (read-your-writes). */
  async #afterCommit(row: StoredRow, write: "create" | "update" | "delete"): Promise<void> {
    const coordinator = this.coordinator;
    const apply = async () => {
      if (write === "create") await coordinator.afterCreate(row);
      else if (write === "update") await coordinator.afterUpdate(row);
      else await coordinator.afterDelete(row);
    };
    if (this.scope.inTransaction) this.scope.afterCommit(apply);
    else await apply();
  }

  /**
   * Patch rules (README "Field types, values and patches"): at least one key; only declared fields (unless the
   * schema has a catchall); a key set to `undefined` unsets the field — allowed only when the field accepts
   * undefined (`.optional()`; a `.default()` field is reset to its default). Returns the keys set to undefined.
   */
  #checkPatchKeys(patch: Record<string, unknown>): string[] {
    const keys = Object.keys(patch);
    const shape = this.schemas.create.shape as Record<string, z.ZodType>;
    const catchall = this.schemas.create._zod.def.catchall;
    const open = catchall !== undefined && catchall._zod.def.type !== "never";
    const issues: ValidationIssue[] = [];
    if (keys.length === 0) issues.push({ path: [], message: "the patch is empty", code: "empty_patch" });
    const unset: string[] = [];
    for (const key of keys) {
      const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (field === undefined && !open) {
        issues.push({
          path: [key],
          message: `${key} is not a field of ${this.coordinator.document}`,
          code: "unrecognized_keys",
        });
      } else if (patch[key] === undefined) {
        if (field !== undefined && !field.safeParse(undefined).success) {
          issues.push({ path: [key], message: `${key} is required and cannot be unset`, code: "invalid_type" });
        }
        unset.push(key);
      }
    }
    if (issues.length > 0) throw new ValidationError(this.coordinator.document, issues, "patch");
    return unset;
  }

  /** Bigints to strings, then refuse what Postgres jsonb cannot hold (see json-value.ts), before anything is sent. */
  #storable(data: Record<string, unknown>, what: string): Record<string, unknown> {
    const encoded = this.schemas.codec === undefined ? data : this.schemas.codec.encode(data);
    const issue = findJsonIssue(encoded, { postgresStrings: true });
    if (issue !== undefined) throw new ValidationError(this.coordinator.document, [issue], what);
    return encoded;
  }

  #validate(schema: z.ZodType, value: unknown, what: string): Record<string, unknown> {
    // Circular or very deep input would overflow zod's own recursion: refuse it first.
    const shapeIssue = findJsonIssue(value, { postgresStrings: false, structureOnly: true });
    if (shapeIssue !== undefined) throw new ValidationError(this.coordinator.document, [shapeIssue], what);
    const result = schema.safeParse(value);
    if (!result.success) {
      const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
        path: issue.path.map((part) => (typeof part === "symbol" ? String(part) : part)),
        message: issue.message,
        code: issue.code,
      }));
      throw new ValidationError(this.coordinator.document, issues, what);
    }
    return result.data as Record<string, unknown>;
  }
}
