import type { Logger } from "../../runtime/logger.js";

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
   * Starts `refresh` for `keys` unless one of them is already refreshing or the cap is reached.
   * Returns whether it started; `onFailure` is called (after logging) when it rejects.
   */
  start(keys: ReadonlyArray<string>, refresh: () => Promise<void>, onFailure: (error: unknown) => void): boolean {
    if (this.#stopped || this.#running.size + keys.length > this.maxConcurrent) return false;
    for (const key of keys) if (this.#running.has(key)) return false;
    for (const key of keys) this.#running.add(key);
    const task = (async () => {
      try {
        await refresh();
      } catch (error) {
        this.logger.warn("background refresh failed; the cached entry stays until it expires", {
          keys: keys.length === 1 ? keys[0] : keys.length,
          error: error instanceof Error ? error.message : String(error),
        });
        onFailure(error);
      } finally {
        for (const key of keys) this.#running.delete(key);
      }
    })();
    this.#inFlight.add(task);
    void task.then(() => this.#inFlight.delete(task));
    return true;
  }

  /** Stops accepting refreshes and waits (up to `timeoutMs`) for those in flight. */
  async drain(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    clearTimeout(timer);
    if (this.#inFlight.size > 0) {
      this.logger.warn("runtime stopped with background refreshes still running; their results are discarded", {
        running: this.#inFlight.size,
      });
    }
  }
}
