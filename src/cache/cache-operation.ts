/** The operations `onOperation` reports. */
export type CacheOperationName =
  | "get"
  | "getMany"
  | "exists"
  | "set"
  | "setMany"
  | "add"
  | "pull"
  | "delete"
  | "deleteMany"
  | "touch"
  | "expire"
  | "ttl"
  | "increment"
  | "getOrSet"
  | "getManyOrSet"
  | "invalidateTags"
  | "clear";

/** One finished operation of a cache, as `onOperation` listeners see it. */
export interface CacheOperation {
  /** The cache's route name. */
  readonly cache: string;
  /** Which method was called. */
  readonly op: CacheOperationName;
  /**
   * The key (first key of a batch): a short hash of it (FNV-1a, hex) unless the listener asked for `rawKeys`;
   * undefined for operations without one (clear, invalidateTags).
   */
  readonly key: string | undefined;
  /** Keys in the call (1 for single-key operations, 0 for clear). */
  readonly keys: number;
  /** Reads: whether the value was found (a batch: whether every key was). Undefined for writes. */
  readonly hit: boolean | undefined;
  /** Where a read was answered: "l1", "l2" (the store), "loader" (getOrSet computed it), "stale" (grace). */
  readonly tier: "l1" | "l2" | "loader" | "stale" | undefined;
  /** Wall time of the call, ms. */
  readonly durationMs: number;
  /** The error the call rejected with, if it did. */
  readonly error: unknown;
}

/** Receives operations; must not throw (a throw is caught and dropped). */
export type CacheOperationListener = (operation: CacheOperation) => void;

/** Options of `onOperation`. */
export interface CacheOperationOptions {
  /**
   * Report keys as given instead of hashed (keys may carry personal data: opt in knowingly).
   * @default false
   */
  readonly rawKeys?: boolean;
}

interface Subscription {
  readonly listener: CacheOperationListener;
  readonly rawKeys: boolean;
}

/** The listeners of one cache. `active` is the only thing the hot path reads when nobody listens. */
export class CacheObservers {
  #subscriptions: ReadonlyArray<Subscription> = [];

  get active(): boolean {
    return this.#subscriptions.length > 0;
  }

  subscribe(listener: CacheOperationListener, rawKeys: boolean): () => void {
    const subscription = { listener, rawKeys };
    this.#subscriptions = [...this.#subscriptions, subscription];
    return () => {
      this.#subscriptions = this.#subscriptions.filter((s) => s !== subscription);
    };
  }

  emit(
    cache: string,
    op: CacheOperationName,
    key: string | undefined,
    keys: number,
    hit: boolean | undefined,
    tier: CacheOperation["tier"],
    startedAt: number,
    error: unknown,
  ): void {
    const durationMs = performance.now() - startedAt;
    let hashed: string | undefined;
    for (const { listener, rawKeys } of this.#subscriptions) {
      if (!rawKeys && key !== undefined) hashed ??= hashKey(key);
      try {
        listener({ cache, op, key: rawKeys ? key : hashed, keys, hit, tier, durationMs, error });
      } catch {
        // A listener's bug must not fail the cache call it watches.
      }
    }
  }
}

/** FNV-1a 32-bit, hex: enough to correlate operations on one key without exposing it. */
export function hashKey(key: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
