import { AbortError } from "./errors.js";

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Marks a promise nobody waits for any more as handled: its rejection must not become an unhandled rejection. */
const ignore = (): void => {};

/**
 * Lets one caller stop waiting for work without cancelling it: the work (a query, or a single flight other callers
 * share) goes on; only this caller's promise rejects with AbortError, as soon as the signal fires. The work's own
 * outcome is always observed, so a work that later fails never surfaces as an unhandled rejection (which would take
 * the process down).
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.then(ignore, ignore);
    return Promise.reject(new AbortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(signal.reason));
    // Observe the work first: whatever happens next, its rejection is handled.
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Starts the work only if not already aborted (so nothing is sent), then waits for it abortably. */
export function abortableCall<T>(start: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  throwIfAborted(signal);
  return abortable(start(), signal);
}
