import type { Logger } from "../kernel/logger.js";
import { withTimeout } from "../kernel/with-timeout.js";

/**
 * Runs detached early refreshes (XFetch background mode) for every document of a runtime: at most one per key, at
 * most `maxConcurrent` at once (an election beyond the cap is dropped — the entry is still fresh, and a later hit
 * elects again), failures logged and never thrown. `drain()` lets `runtime.stop()` wait for the ones in flight.
 */
export class BackgroundRefresher {
  readonly #running = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(
    readonly maxConcurrent: number,
    private readonly logger: Logger,
  ) {}

  get active(): number {
    return this.#running.size;
  }

  /**
   * Starts one `refresh` for those of `keys` that are not refreshing already, as many as the cap leaves room for
   * (in order); `refresh` receives their indices in `keys`. Returns how many were taken — the rest are dropped.
   * `onFailure` is called (after logging) when the refresh rejects.
   */
  start(
    keys: ReadonlyArray<string>,
    refresh: (taken: ReadonlyArray<number>) => Promise<void>,
    onFailure: (error: unknown) => void,
  ): number {
    if (this.#stopped) return 0;
    const taken: number[] = [];
    const room = this.maxConcurrent - this.#running.size;
    for (let i = 0; i < keys.length && taken.length < room; i++) {
      const key = keys[i] as string;
      if (this.#running.has(key)) continue;
      this.#running.add(key);
      taken.push(i);
    }
    if (taken.length === 0) return 0;
    const task = (async () => {
      try {
        await refresh(taken);
      } catch (error) {
        this.logger.warn("background refresh failed; the cached entry stays until it expires", {
          keys: taken.length === 1 ? keys[taken[0] as number] : taken.length,
          error: error instanceof Error ? error.message : String(error),
        });
        onFailure(error);
      } finally {
        for (const i of taken) this.#running.delete(keys[i] as string);
      }
    })();
    this.#inFlight.add(task);
    void task.then(() => this.#inFlight.delete(task));
    return taken.length;
  }

  /** Stops accepting refreshes and waits (up to `timeoutMs`) for those in flight. */
  async drain(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    if (this.#inFlight.size === 0) return;
    await withTimeout(Promise.allSettled([...this.#inFlight]), timeoutMs, () => undefined, { unref: true });
    if (this.#inFlight.size > 0) {
      this.logger.warn("stopping with background refreshes still running; they end on their own (queryTimeoutMs)", {
        running: this.#inFlight.size,
      });
    }
  }
}
