/**
 * Capped exponential backoff with "equal jitter": half the step is fixed (so retries never hammer the server) and
 * half is random (so replicas that lost the same server do not reconnect in lockstep).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return step / 2 + (step / 2) * random();
}
