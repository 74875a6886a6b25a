import type { z } from "zod";
import type { Duration } from "../kernel/duration.js";
import type { L1PolicyName, L1StoreFactory } from "../l1/l1-store.js";

/** The fields of a document: a zod object (ids, revs and timestamps are added by stratacache). */
export type DocumentFields = z.ZodObject;

/** What a user writes in `defineDocument({ cache })`. Every field is optional; unknown keys are rejected. */
export interface CacheSpecInput {
  /**
   * The cache route: the name a `redisModule` or `memoryCacheModule` routes to a namespace.
   * @default the document name
   */
  name?: string;
  /**
   * How long an L2 entry is fresh; past it the next read refetches from Postgres.
   * @default "5m"
   */
  ttl?: Duration;
  /** Opt-in in-process tier. `l1.ttl` is the cross-replica staleness budget when push invalidation is off. */
  l1?: {
    /** Required, shorter than `ttl`: the longest an entry lives in L1 (never past its L2 freshness). */
    ttl: Duration;
    /**
     * Most entries: an integer >= 1 (>= 2 for tinylfu), at most 1,000,000 for the built-in policies.
     * @default 1024
     */
    capacity?: number;
    /**
     * `"lru"`, `"tinylfu"` (frequency-aware, scan-resistant), or a factory building your own store.
     * @default "lru"
     */
    policy?: L1PolicyName | L1StoreFactory;
  };
  /** Probabilistic early refresh (XFetch), so a hot entry is refetched by one reader before it expires. Off unless given. */
  earlyRefresh?: {
    /**
     * How eagerly to refresh before expiry: a finite number > 0; larger refreshes earlier.
     * @default 1
     */
    beta?: number;
    /**
     * Serve the cached value and refetch in the background (true), or make the elected reader refetch (false).
     * @default false
     */
    background?: boolean;
  };
  /** Lifetime = clamp(alpha × age since last update, min, max), used instead of `ttl`. Off unless given. */
  ageTtl?: {
    /**
     * Fraction of the document's age (time since its last update) it stays fresh: a finite number > 0.
     * @default 0.1
     */
    alpha?: number;
    /**
     * Shortest lifetime; at most `max`.
     * @default "30s"
     */
    min?: Duration;
    /**
     * Longest lifetime.
     * @default "1h"
     */
    max?: Duration;
  };
  /** An entry read within this idle window stays cached, up to the absolute lifetime; shorter than `ttl`. Off unless given. */
  slidingTtl?: Duration;
  /** How long past freshness an entry may still be served when Postgres fails. Off unless given (never 0). */
  grace?: Duration;
  /**
   * Distributed fill lease: on an L2 miss only one reader across every process reads Postgres and fills; the others
   * wait for its fill (woken by push invalidation, or polling), at most `maxWait`, then serve grace data or read
   * Postgres themselves. Costs one Lua script instead of a GET on a miss, nothing on a hit. `true` takes the
   * defaults. Off unless given.
   */
  lease?:
    | boolean
    | {
        /**
         * How long a reader waits for another process's fill before serving grace data or reading Postgres itself.
         * @default "2s"
         */
        maxWait?: Duration;
        /**
         * A lease's longest life, and its life until fetch times were observed; after that a lease lasts about
         * 3× the recent p99 fetch time (at least 100 ms, at most this), renewed while the holder's fetch runs.
         * @default "5s"
         */
        ttl?: Duration;
      };
}

/** The validated cache spec, with every duration in milliseconds and every default applied. */
export interface CacheSpec {
  /** The cache route (CacheSpecInput.name). */
  readonly name: string;
  /** L2 freshness lifetime (CacheSpecInput.ttl). */
  readonly ttlMs: number;
  /** The in-process tier; undefined when off. */
  readonly l1: L1Spec | undefined;
  /** XFetch settings (`beta`, `background`, see CacheSpecInput.earlyRefresh); undefined when off. */
  readonly earlyRefresh: { readonly beta: number; readonly background: boolean } | undefined;
  /** Age-based lifetime (`alpha`, `minMs`, `maxMs`, see CacheSpecInput.ageTtl); undefined when off. */
  readonly ageTtl: { readonly alpha: number; readonly minMs: number; readonly maxMs: number } | undefined;
  /** The idle window (CacheSpecInput.slidingTtl); undefined when off. */
  readonly slidingTtlMs: number | undefined;
  /** 0 when grace is off. */
  readonly graceMs: number;
  /** The fill lease (CacheSpecInput.lease); undefined when off. */
  readonly lease?: LeaseSpec | undefined;
}

/** The resolved fill lease of a cache spec. */
export interface LeaseSpec {
  /** Longest wait for another process's fill (`lease.maxWait`). */
  readonly maxWaitMs: number;
  /** Longest lease life (`lease.ttl`). */
  readonly ttlMs: number;
}

/** The resolved in-process tier of a cache spec. */
export interface L1Spec {
  /** Longest life of an L1 entry (`l1.ttl`). */
  readonly ttlMs: number;
  /** Most entries. */
  readonly capacity: number;
  /** The eviction policy, or the factory of a custom store. */
  readonly policy: L1PolicyName | L1StoreFactory;
}

/** A declared document type. Create one with `defineDocument`. */
export interface DocumentSpec<F extends DocumentFields = DocumentFields> {
  /** The document's name; routes it to a table. */
  readonly name: string;
  /** The zod schema of the document's own fields. */
  readonly fields: F;
  /** Undefined when the document is not cached. */
  readonly cache: CacheSpec | undefined;
  /** Stable hash of the fields' shape; part of every L2 key so a shape change never reads old entries. */
  readonly fingerprint: string;
  /** Rows belong to tenants (DefineDocumentInput.tenantScoped); absent when not. */
  readonly tenantScoped?: boolean;
  /** Fields stored encrypted in Postgres (DefineDocumentInput.sealedFields); absent when none. */
  readonly sealedFields?: ReadonlyArray<string>;
}

/** Columns every stored document carries. */
export interface DocumentMeta {
  /** A UUID: given at create, or generated. */
  readonly id: string;
  /** 1 at create, +1 on every update; the `rev` an update or delete must name. */
  readonly rev: number;
  /** When the row was inserted (Postgres time). */
  readonly createdAt: Date;
  /** When the row was last written (Postgres time); may be the same Date object as `createdAt` when equal (read-only). */
  readonly updatedAt: Date;
}

type DeepReadonly<T> = T extends Date
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A document as read: the fields plus id, rev and timestamps, deep-frozen (and typed deeply readonly). */
export type Doc<S extends DocumentSpec> = DeepReadonly<z.infer<S["fields"]>> & DocumentMeta;
/** What `create` accepts: the fields, and optionally a caller-chosen id. */
export type CreateInput<S extends DocumentSpec> = z.input<S["fields"]> & { id?: string };
/** What `update` accepts: any subset of the fields. */
export type Patch<S extends DocumentSpec> = Partial<z.input<S["fields"]>>;
