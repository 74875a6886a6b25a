/**
 * The change-capture part of postgresModule: option checks, and opening the relay's source on the module's driver.
 *
 * Exports: `ChangeRelayOptions`, `DocumentCaptureOption`, `captureModule(...)`.
 */

import type { CaptureMode } from "../../change-capture/capture-stats.js";
import type { CaptureEnv, ChangeCapture } from "../../change-capture/change-capture.js";
import { startChangeCapture } from "../../change-capture/change-capture.js";
import type { ChangeSource } from "../../change-capture/change-source.js";
import { LogicalSource, loadReplication } from "../../change-capture/logical/logical-source.js";
import { captureInstalled, installCapture } from "../../change-capture/outbox/outbox-ddl.js";
import { OutboxSource } from "../../change-capture/outbox/outbox-source.js";
import { checkKnownKeys, checkObject, checkPositiveInt } from "../../kernel/check-options.js";
import type { Duration } from "../../kernel/duration.js";
import { parseDuration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { TableRef } from "../../repository/document-repository.js";
import type { SqlDriver } from "../../repository/postgres/sql-driver.js";
import type { ChangeCaptureModule } from "../module.js";

/**
 * A document's `changeCapture`: `true` or `"outbox"` (triggers write an outbox table, drained by a relay; any
 * Postgres, PGlite included), `"logical"` (a pgoutput replication slot; needs `wal_level=logical` and a `url`).
 * All captured documents of one module use the same mode.
 */
export type DocumentCaptureOption = boolean | CaptureMode;

/** `postgresModule({ changeRelay })`: how this runtime relays the captured changes of the module's documents. */
export interface ChangeRelayOptions {
  /**
   * Run a relay in this runtime. Any number of runtimes may (they share the work); with none, captured changes wait
   * in the outbox and out-of-band writes are seen only when cached entries expire (`runtime.stats()` says
   * `relay: "off"`). A runtime that relays must list the captured documents in `createRuntime({ documents })`.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The safety net: how often the relay drains without a doorbell, which bounds staleness after writers that do not
   * ring it (`SELECT pg_notify('stratacache_outbox', '')` after their commit).
   * @default "250ms"
   */
  readonly pollInterval?: Duration;
  /**
   * Changes claimed per batch (outbox mode).
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * LISTEN for the doorbell on a dedicated connection (pg only; PGlite polls).
   * @default true
   */
  readonly doorbell?: boolean;
  /**
   * How long applying one batch to the cache may take before it is abandoned and redelivered.
   * @default "5s"
   */
  readonly applyTimeout?: Duration;
  /**
   * Logical mode: the replication slot's name (one consumer at a time; other runtimes stand by).
   * @default "stratacache"
   */
  readonly slot?: string;
  /**
   * Logical mode: the publication's name (created with a column list of id, incarnation and rev).
   * @default "stratacache"
   */
  readonly publication?: string;
}

const RELAY_KEYS = ["enabled", "pollInterval", "batchSize", "doorbell", "applyTimeout", "slot", "publication"];

/** The relay options with their defaults applied. */
interface ResolvedRelay {
  readonly enabled: boolean;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly doorbell: boolean;
  readonly applyTimeoutMs: number;
  readonly slot: string;
  readonly publication: string;
}

/**
 * Checks the per-document modes and the module's `changeRelay`; undefined when no document is captured.
 * `driverOf` gives the driver of the database the module opened.
 */
export function captureModule(
  modes: ReadonlyMap<string, CaptureMode>,
  routes: ReadonlyMap<string, TableRef>,
  relayOption: unknown,
  url: string | undefined,
  driverOf: () => SqlDriver | undefined,
): ChangeCaptureModule | undefined {
  const relay = resolveRelay(relayOption);
  if (modes.size === 0) return undefined;
  const distinct = new Set(modes.values());
  if (distinct.size > 1) {
    throw new ConfigurationError("postgresModule.documents", "captured documents of one module must use one mode");
  }
  const mode = [...distinct][0] as CaptureMode;
  if (mode === "logical" && url === undefined) {
    throw new ConfigurationError("postgresModule.url", 'changeCapture: "logical" needs a url (a replication session)');
  }
  const captured = new Map([...modes.keys()].map((name) => [name, routes.get(name) as TableRef]));
  const tables = [...captured.values()];
  return {
    mode,
    routes: captured,
    relay: relay.enabled,
    async open(env: CaptureEnv, migrate: boolean): Promise<ChangeCapture> {
      const driver = driverOf();
      if (driver === undefined) throw new Error("the module's database is not open");
      if (migrate) {
        const missing = await anyMissing(driver, tables, mode);
        if (missing) await installCapture((fn) => driver.transaction(fn), tables, mode);
      } else if (await anyMissing(driver, tables, mode)) {
        env.logger.warn("change capture is not installed on every captured table (migrate: false installs nothing)", {
          mode,
        });
      }
      let source: ChangeSource | undefined;
      if (relay.enabled && mode === "outbox") {
        source = new OutboxSource({ driver, ...relay, logger: env.logger, clock: env.clock, health: env.health });
      } else if (relay.enabled) {
        await loadReplication(); // a missing optional peer fails start with the fix in the message
        source = new LogicalSource({
          url: url as string,
          tables,
          slot: relay.slot,
          publication: relay.publication,
          pollIntervalMs: relay.pollIntervalMs,
          logger: env.logger,
          clock: env.clock,
          health: env.health,
        });
      } else {
        env.logger.warn(
          "change capture: this runtime runs no relay (changeRelay.enabled: false); unless another runtime relays, out-of-band writes stay cached until entries expire",
          { mode },
        );
      }
      return startChangeCapture(mode, source, env.targetFor);
    },
  };
}

function resolveRelay(value: unknown): ResolvedRelay {
  const path = "postgresModule.changeRelay";
  const opts = value === undefined ? {} : checkObject(value, path);
  checkKnownKeys(opts, RELAY_KEYS, path);
  const bool = (key: string, fallback: boolean) => {
    const v = opts[key] ?? fallback;
    if (typeof v !== "boolean") throw new ConfigurationError(`${path}.${key}`, "must be a boolean");
    return v;
  };
  const name = (key: string) => {
    const v = opts[key] ?? "stratacache";
    if (typeof v !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
      throw new ConfigurationError(`${path}.${key}`, "must be a lower-case identifier ([a-z_][a-z0-9_]*, ≤ 63)");
    }
    return v;
  };
  return {
    enabled: bool("enabled", true),
    pollIntervalMs: parseDuration(opts.pollInterval ?? "250ms", `${path}.pollInterval`),
    batchSize: opts.batchSize === undefined ? 500 : checkPositiveInt(opts.batchSize, `${path}.batchSize`),
    doorbell: bool("doorbell", true),
    applyTimeoutMs: parseDuration(opts.applyTimeout ?? "5s", `${path}.applyTimeout`),
    slot: name("slot"),
    publication: name("publication"),
  };
}

/** Whether any table lacks the mode's trigger (or, for the outbox, the outbox table is missing). */
async function anyMissing(driver: SqlDriver, tables: ReadonlyArray<TableRef>, mode: CaptureMode): Promise<boolean> {
  if (mode === "outbox") {
    const outbox = await driver.query("SELECT to_regclass('public.stratacache_outbox') IS NOT NULL AS present");
    if (outbox.rows[0]?.present !== true) return true;
  }
  for (const table of tables) if (!(await captureInstalled(driver, table, mode))) return true;
  return false;
}

/** A document's `changeCapture` value as a mode, or undefined when off. */
export function documentCaptureMode(value: unknown, path: string): CaptureMode | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === "outbox") return "outbox";
  if (value === "logical") return "logical";
  throw new ConfigurationError(path, 'must be true, false, "outbox" or "logical"');
}
