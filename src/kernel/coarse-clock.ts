/**
 * Wall-clock milliseconds for L1 expiry checks, read at most once per event-loop turn (and again every
 * COARSE_READS lookups within a long turn).
 *
 * Why: an L1 hit costs tens of nanoseconds, and on virtual machines without a vDSO clock `Date.now()` is a system
 * call that costs as much as the rest of the hit. L1 lifetimes are seconds to minutes, so a clock that lags by at
 * most one turn of the event loop changes nothing that matters: an entry may be served for that long past its
 * `l1.ttl`. Only the runtime's default clock is coarsened; an injected clock is always read exactly.
 */
const COARSE_READS = 256;

let cached = 0;
let reads = 0;
let armed = false;

const disarm = (): void => {
  armed = false;
};

export function coarseNow(): number {
  if (armed && ++reads < COARSE_READS) return cached;
  return readClock();
}

/** Kept out of coarseNow, so that what V8 inlines into every L1 hit is the two-comparison fast path alone. */
function readClock(): number {
  cached = Date.now();
  reads = 0;
  if (!armed) {
    armed = true;
    setImmediate(disarm).unref();
  }
  return cached;
}
