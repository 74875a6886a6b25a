import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";

/** Default window: at most one warning per kind per 10 s. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

/**
 * Warnings about a degradation that repeats on every call (Redis failing each read, a write-through retrying, the
 * push channel reconnecting): the first of a kind is logged at warn at once, then at most one per `intervalMs`,
 * carrying `suppressed` — how many of that kind were held back since the last line. Held-back ones still go to
 * debug, so nothing is lost for whoever turns debug on. Time comes from the injected clock.
 */
export class RateLimitedLog {
  readonly #windows = new Map<string, { last: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Pick<Clock, "now">,
    private readonly intervalMs: number = DEFAULT_LOG_INTERVAL_MS,
  ) {}

  /** `kind` groups lines for the limit (e.g. "l2-read"); `message` is what is printed. */
  warn(kind: string, message: string, fields: Readonly<Record<string, unknown>> = {}): void {
    this.#emit("warn", kind, message, fields);
  }

  /** Like warn, at info (recoveries): its own windows per `kind`. */
  info(kind: string, message: string, fields: Readonly<Record<string, unknown>> = {}): void {
    this.#emit("info", `info:${kind}`, message, fields);
  }

  #emit(level: "warn" | "info", kind: string, message: string, fields: Readonly<Record<string, unknown>>): void {
    const now = this.clock.now();
    const window = this.#windows.get(kind);
    if (window !== undefined && now - window.last < this.intervalMs) {
      window.suppressed++;
      this.logger.debug(message, fields);
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    this.#windows.set(kind, { last: now, suppressed: 0 });
    this.logger[level](message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
