import { ChurnMap } from "../kernel/churn-map.js";
import type { Clock } from "../kernel/clock.js";
import type { L1Store } from "../l1/l1-store.js";
import type { FrozenDocument } from "./document-codec.js";

/**
 * Keeps L1 honest about reads that race invalidations (invariant 3). A fill takes a token before it reads L2; a
 * local write (after its L2 write-through) or a push invalidation voids the token of its id, and a flush voids
 * them all. A fill whose token was voided — or that finishes while the guard is closed (push channel down) —
 * returns its value to its caller but is not cached in L1. This is the `LocalCache` contract of the invalidation
 * router. Without an L1 every method is a no-op.
 */
export class L1FillGuard {
  /** id → token of the fill in flight (single-flight makes it at most one per id); tokens start at 1, 0 is idle. */
  readonly #tokens = new ChurnMap<number>(0);
  #nextToken = 1;
  /** While false (push channel down), fills do not reach L1. */
  #open = true;

  constructor(
    private readonly l1: L1Store<FrozenDocument> | undefined,
    private readonly clock: Clock,
  ) {}

  /** Takes a token for a fill of `id` (0 without an L1). */
  begin(id: string): number {
    if (this.l1 === undefined) return 0;
    const token = this.#nextToken++;
    this.#tokens.set(id, token);
    return token;
  }

  /** The fill ends without caching anything. */
  end(id: string, token: number): void {
    if (this.#tokens.get(id) === token) this.#tokens.delete(id);
  }

  /** Caches `doc` in L1 until `freshUntil` when nothing invalidated the id (or closed the guard) since `begin`. */
  finish(id: string, token: number, doc: FrozenDocument, freshUntil: number): void {
    const l1 = this.l1;
    if (l1 === undefined) return;
    const valid = this.#tokens.get(id) === token && this.#open;
    this.end(id, token);
    if (!valid) return;
    // L1 never outlives L2 freshness; the store caps it further at l1.ttl.
    if (!Number.isFinite(freshUntil)) l1.set(id, doc);
    else {
      const remaining = freshUntil - this.clock.now();
      if (remaining > 0) l1.set(id, doc, remaining);
    }
  }

  /** Drops the L1 entry of `id` and voids its fill in flight. */
  invalidate(id: string): void {
    this.#tokens.delete(id);
    this.l1?.invalidate(id);
  }

  /** Drops every L1 entry and voids every fill in flight. */
  flush(): void {
    this.#tokens.clear();
    this.l1?.clear();
  }

  /** Opens or closes L1 filling (closed while push invalidation is disarmed). Closing also flushes. */
  setOpen(open: boolean): void {
    if (!open) this.flush();
    this.#open = open;
  }
}
