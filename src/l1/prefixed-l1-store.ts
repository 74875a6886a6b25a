import type { L1Stats, L1Store } from "./l1-store.js";

/**
 * One tenant's view of a shared L1 store: every key is prefixed (`<tenant>\0<id>`), so tenants share one capacity
 * and never see each other's entries. `clear` clears the shared store (every tenant): flushes are rare and must
 * never leave an entry behind. Size, capacity and stats are the shared store's.
 */
export class PrefixedL1Store<V> implements L1Store<V> {
  readonly peek?: (key: string) => V | undefined;
  readonly getSettled?: (key: string) => Promise<V> | undefined;

  constructor(
    private readonly inner: L1Store<V>,
    private readonly prefix: string,
  ) {
    if (inner.peek !== undefined) this.peek = (key) => inner.peek?.(this.prefix + key);
    if (inner.getSettled !== undefined) this.getSettled = (key) => inner.getSettled?.(this.prefix + key);
  }

  get(key: string): V | undefined {
    return this.inner.get(this.prefix + key);
  }

  set(key: string, value: V, ttlMs?: number): void {
    this.inner.set(this.prefix + key, value, ttlMs);
  }

  invalidate(key: string): boolean {
    return this.inner.invalidate(this.prefix + key);
  }

  clear(): void {
    this.inner.clear();
  }

  get size(): number {
    return this.inner.size;
  }

  get capacity(): number {
    return this.inner.capacity;
  }

  stats(): L1Stats {
    return this.inner.stats();
  }
}
