import type { z } from "zod";
import type { Duration } from "../kernel/duration.js";
import type { L1PolicyName, L1StoreFactory } from "../l1/l1-store.js";

/** The fields of a document: a zod object (ids, revs and timestamps are added by stratacache). */
export type DocumentFields = z.ZodObject;

/** What a user writes in `defineDocument({ cache })`. Every field is optional; unknown keys are rejected. */
export interface CacheSpecInput {
  /** Route to a cache backend (default: the document name). */
  name?: string;
  /** Freshness lifetime in L2 (default `"5m"`). */
  ttl?: Duration;
  /** Opt-in in-process tier. `ttl` is the cross-replica staleness budget when push invalidation is off. */
  l1?: { ttl: Duration; capacity?: number; policy?: L1PolicyName | L1StoreFactory };
  /** Probabilistic early refresh (XFetch). */
  earlyRefresh?: { beta?: number; background?: boolean };
  /** Lifetime = clamp(alpha × age since last update, min, max). */
  ageTtl?: { alpha?: number; min?: Duration; max?: Duration };
  /** An entry read within this idle window stays cached, up to the absolute lifetime. */
  slidingTtl?: Duration;
  /** How long past freshness an entry may still be served when Postgres fails. */
  grace?: Duration;
}

/** The validated cache spec, with every duration in milliseconds and every default applied. */
export interface CacheSpec {
  readonly name: string;
  readonly ttlMs: number;
  readonly l1: L1Spec | undefined;
  readonly earlyRefresh: { readonly beta: number; readonly background: boolean } | undefined;
  readonly ageTtl: { readonly alpha: number; readonly minMs: number; readonly maxMs: number } | undefined;
  readonly slidingTtlMs: number | undefined;
  /** 0 when grace is off. */
  readonly graceMs: number;
}

export interface L1Spec {
  readonly ttlMs: number;
  readonly capacity: number;
  readonly policy: L1PolicyName | L1StoreFactory;
}

/** A declared document type. Create one with `defineDocument`. */
export interface DocumentSpec<F extends DocumentFields = DocumentFields> {
  readonly name: string;
  readonly fields: F;
  /** Undefined when the document is not cached. */
  readonly cache: CacheSpec | undefined;
  /** Stable hash of the fields' shape; part of every L2 key so a shape change never reads old entries. */
  readonly fingerprint: string;
}

/** Columns every stored document carries. */
export interface DocumentMeta {
  readonly id: string;
  readonly rev: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

type DeepReadonly<T> = T extends Date
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A document as read: the fields plus id, rev and timestamps, deep-frozen. */
export type Doc<S extends DocumentSpec> = DeepReadonly<z.infer<S["fields"]>> & DocumentMeta;
/** What `create` accepts: the fields, and optionally a caller-chosen id. */
export type CreateInput<S extends DocumentSpec> = z.input<S["fields"]> & { id?: string };
/** What `update` accepts: any subset of the fields. */
export type Patch<S extends DocumentSpec> = Partial<z.input<S["fields"]>>;
