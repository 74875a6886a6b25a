import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import type { CaptureMode, ChangeCaptureStats } from "./capture-stats.js";
import type { CaptureTarget } from "./capture-target.js";
import type { CapturedTable } from "./captured-change.js";
import { ChangeRelay } from "./change-relay.js";
import type { ChangeSource } from "./change-source.js";
import type { RelayHealth } from "./relay-health.js";

/** A database's change capture once opened by the runtime: its relay (when this runtime runs one) and its stats. */
export interface ChangeCapture {
  stats(): ChangeCaptureStats;
  /** Stops the relay; changes not yet acknowledged stay for the next relay. */
  stop(): Promise<void>;
}

/** What the runtime gives a documents module to open its change capture. */
export interface CaptureEnv {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The target of a captured table's document (undefined: this runtime does not route that table). */
  readonly targetFor: (table: CapturedTable) => CaptureTarget | undefined;
  /** Where the relay reports failed and working attempts (`change-capture` in `runtime.health()`). */
  readonly health?: RelayHealth;
}

/** Wires a source to a relay; `source` undefined means this runtime runs no relay (stats say "off"). */
export function startChangeCapture(
  mode: CaptureMode,
  source: ChangeSource | undefined,
  targetFor: (table: CapturedTable) => CaptureTarget | undefined,
): Promise<ChangeCapture> {
  const relay = new ChangeRelay(targetFor);
  const capture: ChangeCapture = {
    stats(): ChangeCaptureStats {
      const { applied, duplicates, flushes } = relay.counters;
      if (source === undefined) {
        return {
          mode,
          relay: "off",
          lagMs: 0,
          depth: 0,
          applied,
          duplicates,
          failed: 0,
          flushes,
          doorbells: 0,
          polls: 0,
        };
      }
      const { slot, ...own } = source.stats();
      return { mode, ...own, applied, duplicates, flushes, ...(slot === undefined ? {} : { slot }) };
    },
    stop: async () => {
      await source?.stop();
    },
  };
  if (source === undefined) return Promise.resolve(capture);
  return source.start((changes) => relay.apply(changes)).then(() => capture);
}
