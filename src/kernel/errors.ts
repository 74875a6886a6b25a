/** Stable, machine-readable error codes. Never renamed once published. */
export type StrataErrorCode =
  | "CONFIGURATION"
  | "VALIDATION"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAVAILABLE"
  | "ABORTED"
  | "STOPPED"
  | "TIMEOUT";

/** Base of every error stratacache throws on purpose. Switch on `code`, not on the class name. */
export class StrataError extends Error {
  /** What kind of failure this is; stable across releases. */
  readonly code: StrataErrorCode;

  constructor(code: StrataErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A spec, module or option is invalid. `path` names the offending setting (e.g. `cache.l1.ttl`). */
export class ConfigurationError extends StrataError {
  /** The offending setting as a dotted path, e.g. `cache.l1.ttl`; empty when the whole value is wrong. */
  readonly path: string;
  /** The rule it broke, phrased to follow the path (e.g. `must be at most 365d`). */
  readonly rule: string;

  constructor(path: string, rule: string) {
    super("CONFIGURATION", path ? `${path} ${rule}` : rule);
    this.path = path;
    this.rule = rule;
  }
}

/** One problem found while validating input; `path` is the dotted path into the payload. */
export interface ValidationIssue {
  /** Keys and array indexes from the payload root to the bad value; empty for the payload itself. */
  readonly path: ReadonlyArray<string | number>;
  /** What is wrong, for humans. */
  readonly message: string;
  /** The validator's issue code (zod's, e.g. `invalid_type`, or stratacache's own for ids and patches). */
  readonly code: string;
}

/** A payload, patch or id was refused. Nothing was written. */
export class ValidationError extends StrataError {
  /** The document type whose input was refused. */
  readonly document: string;
  /** Every problem found; the message describes the first. */
  readonly issues: ReadonlyArray<ValidationIssue>;

  constructor(document: string, issues: ReadonlyArray<ValidationIssue>, what = "input") {
    const first = issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join(".")}` : "";
    super("VALIDATION", `invalid ${document} ${what}${where}: ${first?.message ?? "rejected"}`);
    this.document = document;
    this.issues = issues;
  }
}

/** One or more documents do not exist. `missing` lists the ids in the order they were asked for. */
export class NotFoundError extends StrataError {
  /** The document type that was read. */
  readonly document: string;
  /** The ids that do not exist, in request order. */
  readonly missing: ReadonlyArray<string>;

  constructor(document: string, missing: ReadonlyArray<string>) {
    super(
      "NOT_FOUND",
      missing.length === 1 ? `${document} ${missing[0]} not found` : `${document}: ${missing.length} ids not found`,
    );
    this.document = document;
    this.missing = missing;
  }
}

/** An optimistic write lost: the expected `rev` was not current, or the id already exists. */
export class ConflictError extends StrataError {
  /** The document type that was written. */
  readonly document: string;
  /** The id whose write lost. */
  readonly id: string;
  /** The rev the row has now, when it still exists. */
  readonly currentRev: number | undefined;

  constructor(document: string, id: string, message: string, currentRev?: number) {
    super("CONFLICT", message);
    this.document = document;
    this.id = id;
    this.currentRev = currentRev;
  }
}

/** A runtime that is not started (or already stopped) was asked to work. */
export class RuntimeStateError extends StrataError {
  constructor(message: string) {
    super("STOPPED", message);
  }
}

/**
 * A dependency (Postgres or Redis) failed, timed out or went away while serving a call. `cause` holds the driver's
 * own error. Nothing the caller asked for is known to have been written unless the operation says otherwise.
 */
export class UnavailableError extends StrataError {
  /** Which dependency failed. */
  readonly dependency: "postgres" | "redis";

  constructor(dependency: "postgres" | "redis", message: string, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
    this.dependency = dependency;
  }
}

/** The caller's AbortSignal fired before the operation finished. */
export class AbortError extends StrataError {
  constructor(reason?: unknown) {
    super("ABORTED", "the operation was aborted", { cause: reason });
  }
}

/** A loader (the cache API's `getOrSet`) ran past its hard timeout and no stale value could stand in. */
export class TimeoutError extends StrataError {
  /** The deadline that passed, in ms. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super("TIMEOUT", message);
    this.timeoutMs = timeoutMs;
  }
}
