import type { Logger } from "../kernel/logger.js";
import { withTimeout } from "../kernel/with-timeout.js";

/**
 * Fills still on their way to L2 after their read has answered. A miss returns the document as soon as Postgres
 * does and lets the fenced fill finish behind it: the fill's round trip (a Lua fence, ~1/4 of a miss) is not the
 * caller's to wait for, and correctness never depended on it — the fence decides what lands, and a read of the same
 * id in this process joins the read until its fill settles (see SingleFlight). `drain()` lets `runtime.stop()` wait
 * for them before it closes the connections they use. Fills never reject (they count their failures).
 */
export class PendingFills {
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(private readonly logger?: Logger) {}

  /** Fills in flight now. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** Tracks `fill` until it settles; returns it. */
  track<T>(fill: Promise<T>): Promise<T> {
    this.#inFlight.add(fill);
    const done = () => void this.#inFlight.delete(fill);
    fill.then(done, done);
    return fill;
  }

  /** Resolves once no fill is in flight (fills started meanwhile included). Never rejects. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Waits (up to `timeoutMs`) for the fills in flight, including any they start. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      await withTimeout(Promise.allSettled([...this.#inFlight]), deadline - Date.now(), () => undefined, {
        unref: true,
      });
    }
    if (this.#inFlight.size > 0) {
      this.logger?.warn("stopping with cache fills still running; they end on their own (commandTimeout)", {
        running: this.#inFlight.size,
      });
    }
  }
}
