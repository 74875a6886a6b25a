import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** How long to poll before failing; only keeps a broken build from hanging (the wait asserts nothing itself). */
  readonly timeoutMs?: number;
  /** The pause between two probes. */
  readonly intervalMs?: number;
  /** What the failure says was awaited. */
  readonly message?: string;
}

/** The tests' one polling loop: probes until `probe` returns true, and throws `message` after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  { timeoutMs = 10_000, intervalMs = 50, message = "condition not met in time" }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() >= deadline) throw new Error(`${message} (waited ${timeoutMs} ms)`);
    await sleep(intervalMs);
  }
}

/** Calls `read` until it resolves and returns its value; after `timeoutMs` its last rejection is thrown. */
export async function eventuallyResolves<T>(
  read: () => Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50 }: Omit<WaitOptions, "message"> = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(intervalMs);
    }
  }
}
