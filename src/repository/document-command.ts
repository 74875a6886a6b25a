import type { z } from "zod";
import type { CreateInput, Doc, DocumentSpec, Patch } from "../spec/document-spec.js";
import type { ValidationIssue } from "../spec/errors.js";
import { ValidationError } from "../spec/errors.js";
import type { ReadThroughCoordinator } from "./cached/read-through-coordinator.js";
import { documentFromRow } from "./document-codec.js";
import { checkDocumentId, checkRev } from "./document-id.js";
import type { DocumentRepository, StoredRow, TransactionScope } from "./document-repository.js";

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
  readonly create: z.ZodType;
  readonly patch: z.ZodType;
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
    const data = this.#validate(this.schemas.create, fields, "input");
    const row = await this.repository.insert(this.scope, key, data);
    await this.#afterCommit(row, "create");
    return documentFromRow(row) as Doc<S>;
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
    const data = this.#validate(this.schemas.patch, patch, "patch");
    // A patch changes only the keys it names: drop defaults the partial schema may have filled in.
    for (const name of Object.keys(data)) if (!Object.hasOwn(patch, name)) delete data[name];
    const row = await this.repository.update(this.scope, key, rev, data);
    await this.#afterCommit(row, "update");
    return documentFromRow(row) as Doc<S>;
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
      else if (write === "update") await coordinator.afterWrite(row);
      else await coordinator.afterDelete(row);
    };
    if (this.scope.inTransaction) this.scope.afterCommit(apply);
    else await apply();
  }

  #validate(schema: z.ZodType, value: unknown, what: string): Record<string, unknown> {
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
