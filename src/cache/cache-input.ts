import { describeValue } from "../kernel/config-object.js";
import { didYouMean } from "../kernel/did-you-mean.js";
import { parseDuration } from "../kernel/duration.js";
import { ValidationError } from "../kernel/errors.js";
import type { CacheWriteOptions, CounterOptions, GetOrSetOptions } from "./cache.js";

/**
 * Option rules of the cache API, checked before anything is sent (keys and values: l2/kv-input.ts). An options
 * object is absent or a plain object of known keys; a misspelt key is refused rather than meaning the default.
 */
export const MAX_TAG_LENGTH = 256;
export const MAX_TAGS = 64;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
const BAD_TAG_CHAR = /[\u0000-\u001f\u007f|]|\p{Surrogate}/u;

/** Parsed write options: lifetime in ms and tags. */
export interface WriteOptions {
  readonly ttlMs: number;
  readonly tags: ReadonlyArray<string>;
}

const NO_TAGS: ReadonlyArray<string> = [];
const WRITE_KEYS = ["ttl", "tags"] as const;
const COUNTER_KEYS = ["ttl", "floor", "ceiling"] as const;
const GET_OR_SET_KEYS = [
  "ttl",
  "grace",
  "earlyRefresh",
  "timeout",
  "signal",
  "schema",
  "tags",
  "cacheUndefined",
  "notFoundTtl",
  "lease",
] as const;

export function checkWriteOptions(options: unknown, defaultTtlMs: number, path: ReadonlyArray<string | number> = []) {
  if (options === undefined) return { ttlMs: defaultTtlMs, tags: NO_TAGS };
  const opts = plainOptions(options, WRITE_KEYS, path, `{ ttl: "5m", tags: ["user:1"] }`) as CacheWriteOptions;
  return {
    ttlMs: opts.ttl === undefined ? defaultTtlMs : parseDuration(opts.ttl, "ttl"),
    tags: opts.tags === undefined ? NO_TAGS : checkTags(opts.tags, [...path, "tags"]),
  } satisfies WriteOptions;
}

export function checkTags(tags: unknown, path: ReadonlyArray<string | number> = ["tags"]): ReadonlyArray<string> {
  if (!Array.isArray(tags)) throw invalid(path, "tags must be an array of strings", "invalid_type");
  if (tags.length > MAX_TAGS) throw invalid(path, `at most ${MAX_TAGS} tags (got ${tags.length})`, "too_many");
  tags.forEach((tag: unknown, i) => {
    if (typeof tag !== "string" || tag.length === 0 || tag.length > MAX_TAG_LENGTH || BAD_TAG_CHAR.test(tag)) {
      throw invalid(
        [...path, i],
        `a tag must be a non-empty string of at most ${MAX_TAG_LENGTH} characters without | or control characters (got ${describeValue(tag)})`,
        "invalid_tag",
      );
    }
  });
  return [...new Set(tags as string[])];
}

/** Parsed counter options. */
export interface CounterSettings {
  readonly ttlMs: number;
  readonly floor: number | undefined;
  readonly ceiling: number | undefined;
}

export function checkCounter(by: unknown, options: unknown, defaultTtlMs: number): CounterSettings {
  if (typeof by !== "number" || !Number.isSafeInteger(by)) {
    throw invalid(["by"], `by must be a safe integer (got ${describeValue(by)})`, "invalid_type");
  }
  if (options === undefined) return { ttlMs: defaultTtlMs, floor: undefined, ceiling: undefined };
  const opts = plainOptions(options, COUNTER_KEYS, [], "{ ttl, floor, ceiling }") as CounterOptions;
  const floor = optionalInteger(opts.floor, "floor");
  const ceiling = optionalInteger(opts.ceiling, "ceiling");
  if (floor !== undefined && ceiling !== undefined && floor > ceiling) {
    throw invalid(["options", "floor"], `floor (${floor}) must not exceed ceiling (${ceiling})`, "invalid_range");
  }
  return { ttlMs: opts.ttl === undefined ? defaultTtlMs : parseDuration(opts.ttl, "ttl"), floor, ceiling };
}

/** Parsed getOrSet options (durations in ms; 0 = not set). */
export interface GetOrSetSettings<T> {
  readonly ttlMs: number;
  readonly graceMs: number;
  /** 0 = off. */
  readonly beta: number;
  readonly background: boolean;
  readonly softMs: number;
  readonly hardMs: number;
  readonly signal: AbortSignal | undefined;
  readonly schema: GetOrSetOptions<T>["schema"];
  readonly tags: ReadonlyArray<string>;
  /** Lifetime of a cached undefined; 0 = not cached. */
  readonly notFoundTtlMs: number;
  /** The call's `lease`: undefined = the route's choice, false = off, true = on. */
  readonly lease: boolean | undefined;
  /** The call's `lease.maxWait`, ms; undefined = the route's. */
  readonly leaseMaxWaitMs: number | undefined;
}

export function checkGetOrSetOptions<T>(options: unknown, defaultTtlMs: number): GetOrSetSettings<T> {
  if (options === undefined) {
    return {
      ttlMs: defaultTtlMs,
      graceMs: 0,
      beta: 0,
      background: true,
      softMs: 0,
      hardMs: 0,
      signal: undefined,
      schema: undefined,
      tags: NO_TAGS,
      notFoundTtlMs: 0,
      lease: undefined,
      leaseMaxWaitMs: undefined,
    };
  }
  const opts = plainOptions(options, GET_OR_SET_KEYS, [], "{ ttl, grace, schema, … }") as GetOrSetOptions<T>;
  const ttlMs = opts.ttl === undefined ? defaultTtlMs : parseDuration(opts.ttl, "ttl");
  let beta = 0;
  let background = true;
  const early = opts.earlyRefresh;
  if (early === true) beta = 1;
  else if (early !== undefined && early !== false) {
    const e = plainOptions(early, ["beta", "background"], ["earlyRefresh"], "{ beta: 1, background: true }") as {
      beta?: unknown;
      background?: unknown;
    };
    beta = e.beta === undefined ? 1 : (e.beta as number);
    if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
      throw invalid(["options", "earlyRefresh", "beta"], "beta must be a positive number", "invalid_type");
    }
    if (e.background !== undefined && typeof e.background !== "boolean") {
      throw invalid(["options", "earlyRefresh", "background"], "background must be a boolean", "invalid_type");
    }
    background = e.background ?? true;
  }
  let softMs = 0;
  let hardMs = 0;
  if (opts.timeout !== undefined) {
    const t = plainOptions(opts.timeout, ["soft", "hard"], ["timeout"], `{ soft: "50ms", hard: "2s" }`) as {
      soft?: unknown;
      hard?: unknown;
    };
    softMs = t.soft === undefined ? 0 : parseDuration(t.soft, "timeout.soft");
    hardMs = t.hard === undefined ? 0 : parseDuration(t.hard, "timeout.hard");
    if (softMs > 0 && hardMs > 0 && softMs > hardMs) {
      throw invalid(["options", "timeout", "soft"], "timeout.soft must not exceed timeout.hard", "invalid_range");
    }
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw invalid(["options", "signal"], "signal must be an AbortSignal", "invalid_type");
  }
  const schema = opts.schema;
  if (schema !== undefined && typeof (schema as { safeParse?: unknown })?.safeParse !== "function") {
    throw invalid(["options", "schema"], "schema must be a zod schema", "invalid_type");
  }
  if (opts.cacheUndefined !== undefined && typeof opts.cacheUndefined !== "boolean") {
    throw invalid(["options", "cacheUndefined"], "cacheUndefined must be a boolean", "invalid_type");
  }
  const notFoundTtlMs =
    opts.notFoundTtl !== undefined
      ? parseDuration(opts.notFoundTtl, "notFoundTtl")
      : opts.cacheUndefined === true
        ? ttlMs
        : 0;
  let lease: boolean | undefined;
  let leaseMaxWaitMs: number | undefined;
  if (typeof opts.lease === "boolean") lease = opts.lease;
  else if (opts.lease !== undefined) {
    const l = plainOptions(opts.lease, ["maxWait"], ["lease"], `{ maxWait: "2s" }`) as { maxWait?: unknown };
    lease = true;
    leaseMaxWaitMs = l.maxWait === undefined ? undefined : parseDuration(l.maxWait, "lease.maxWait");
  }
  return {
    lease,
    leaseMaxWaitMs,
    ttlMs,
    graceMs: opts.grace === undefined ? 0 : parseDuration(opts.grace, "grace"),
    beta,
    background,
    softMs,
    hardMs,
    signal: opts.signal,
    schema,
    tags: opts.tags === undefined ? NO_TAGS : checkTags(opts.tags, ["options", "tags"]),
    notFoundTtlMs,
  };
}

function optionalInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw invalid(["options", name], `${name} must be a safe integer (got ${describeValue(value)})`, "invalid_type");
  }
  return value;
}

function plainOptions(
  options: unknown,
  allowed: ReadonlyArray<string>,
  path: ReadonlyArray<string | number>,
  example: string,
): Record<string, unknown> {
  const proto: unknown = typeof options === "object" && options !== null ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw invalid(["options", ...path], `expected an object like ${example} (got ${describeValue(options)})`);
  }
  for (const key in options as object) {
    if (!allowed.includes(key)) {
      const guess = didYouMean(key, allowed);
      const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
      throw invalid(["options", ...path, key], `${key} is not an option here${hint}; expected ${allowed.join(", ")}`);
    }
  }
  return options as Record<string, unknown>;
}

function invalid(path: ReadonlyArray<string | number>, message: string, code = "invalid_option"): ValidationError {
  return new ValidationError("cache", [{ path, message, code }], "options");
}
