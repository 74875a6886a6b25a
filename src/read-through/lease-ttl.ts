/** Fetch times kept to estimate the p99 (a ring: old samples age out as the database's speed changes). */
const SAMPLES = 64;
/** Samples needed before the estimate replaces the configured lease life. */
const MIN_SAMPLES = 8;
/**
 * The shortest lease: below this, scheduling noise alone would let leases lapse under a live holder. 100 ms lapsed
 * once under a loaded 2-core machine (an event-loop stall past the renewal at a third of the life let a second
 * process read); 250 ms keeps a dead holder's waiters delayed by a quarter second at most.
 */
export const LEASE_FLOOR_MS = 250;

/**
 * The life of a new fill lease: about 3× the p99 of recent Postgres fetch times, at least LEASE_FLOOR_MS, at most
 * `ceilingMs` (`cache.lease.ttl`, also the life until enough fetches were seen). Short enough that a dead holder
 * delays waiters little; long enough that a live one rarely needs to renew (it renews at a third of the life).
 */
export class LeaseTtl {
  readonly #samples = new Float64Array(SAMPLES);
  #count = 0;
  #ms: number;

  constructor(private readonly ceilingMs: number) {
    this.#ms = ceilingMs;
  }

  get ms(): number {
    return this.#ms;
  }

  observe(fetchMs: number): void {
    this.#samples[this.#count % SAMPLES] = fetchMs;
    this.#count++;
    if (this.#count < MIN_SAMPLES) return;
    const sorted = this.#samples.slice(0, Math.min(this.#count, SAMPLES)).sort();
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
    this.#ms = Math.min(this.ceilingMs, Math.max(Math.min(LEASE_FLOOR_MS, this.ceilingMs), Math.ceil(3 * p99)));
  }
}
