/**
 * The outbox relay's source: drains `stratacache_outbox` (outbox-ddl.ts) in batches, woken by the doorbell
 * (LISTEN, for writers that `pg_notify` after commit) and by a poll timer, the safety net for lost doorbells and
 * for writers that never ring.
 *
 * Claiming: each batch is `DELETE … WHERE seq IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …` in a transaction
 * that commits only after the sink applied the batch: a crash, a Redis outage or a timeout rolls it back and the
 * rows are claimed again (at-least-once; fences make redelivery harmless). SKIP LOCKED lets every runtime run a
 * relay with no leader: concurrent relays take disjoint batches, need no dedicated session, and a dead relay's rows
 * return as soon as its transaction ends — where an advisory-lock leader must be detected dead first (bench
 * change-capture measures both).
 */
import type { Clock } from "../../kernel/clock.js";
import type { Logger } from "../../kernel/logger.js";
import { RateLimitedLog } from "../../kernel/rate-limited-log.js";
import { withTimeout } from "../../kernel/with-timeout.js";
import type { SqlDriver, SqlListener, SqlRow } from "../../repository/postgres/sql-driver.js";
import type { RelayState } from "../capture-stats.js";
import type { CapturedChange } from "../captured-change.js";
import type { ChangeSink, ChangeSource, SourceStats } from "../change-source.js";
import type { RelayHealth } from "../relay-health.js";
import { DOORBELL_CHANNEL, OUTBOX_TABLE } from "./outbox-ddl.js";

export interface OutboxSourceOptions {
  readonly driver: SqlDriver;
  /** The safety net: how often the outbox is drained without a doorbell. */
  readonly pollIntervalMs: number;
  /** Rows per claimed batch. */
  readonly batchSize: number;
  /** LISTEN for the doorbell (when the driver can). */
  readonly doorbell: boolean;
  /** How long applying one batch may take before it is rolled back and retried. */
  readonly applyTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Told of each failed and working drain (the runtime's `change-capture` health; it then logs transitions). */
  readonly health?: RelayHealth;
}

/** Depth is counted up to this many rows, so a huge backlog costs a bounded scan. */
const DEPTH_CAP = 10_000;

const CLAIM_SQL = `WITH claimed AS (
  DELETE FROM ${OUTBOX_TABLE} WHERE seq IN (
    SELECT seq FROM ${OUTBOX_TABLE} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING seq, rel, op, id, incarnation, rev, at)
SELECT n.nspname AS schema, c.relname AS "table", claimed.op, claimed.id::text AS id,
       claimed.incarnation::text AS incarnation, claimed.rev::text AS rev
  FROM claimed
  LEFT JOIN pg_catalog.pg_class c ON c.oid = claimed.rel
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 ORDER BY claimed.seq`;

const MEASURE_SQL = `SELECT (SELECT count(*) FROM (SELECT 1 FROM ${OUTBOX_TABLE} LIMIT ${DEPTH_CAP}) s)::int AS depth,
  COALESCE((SELECT (extract(epoch FROM clock_timestamp() - at) * 1000)::float8 FROM ${OUTBOX_TABLE}
             ORDER BY seq LIMIT 1), 0)::float8 AS lag_ms`;

export class OutboxSource implements ChangeSource {
  readonly mode = "outbox" as const;
  readonly #log: RateLimitedLog;
  #sink: ChangeSink | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #listener: SqlListener | undefined;
  #listening = false;
  #draining: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #state: RelayState = "running";
  #lagMs = 0;
  #depth = 0;
  #doorbells = 0;
  #polls = 0;
  #failed = 0;

  constructor(private readonly options: OutboxSourceOptions) {
    this.#log = new RateLimitedLog(options.logger, options.clock);
  }

  async start(sink: ChangeSink): Promise<void> {
    this.#sink = sink;
    this.#timer = setInterval(() => this.#poll(), this.options.pollIntervalMs);
    this.#timer.unref?.();
    await this.#listen();
    this.#wake(true);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return this.#draining;
    this.#stopped = true;
    clearInterval(this.#timer);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.close();
    await this.#draining;
  }

  stats(): SourceStats {
    return {
      relay: this.#state,
      lagMs: this.#lagMs,
      depth: this.#depth,
      doorbells: this.#doorbells,
      polls: this.#polls,
      failed: this.#failed,
    };
  }

  /** Drains now (a doorbell rung by this process, or a test that does not want to wait for the poll). */
  wake(): void {
    this.#wake(false);
  }

  #poll(): void {
    this.#polls++;
    if (this.options.doorbell && this.#listener === undefined) void this.#listen();
    this.#wake(true);
  }

  async #listen(): Promise<void> {
    const driver = this.options.driver;
    if (!this.options.doorbell || driver.listen === undefined || this.#listening || this.#stopped) return;
    this.#listening = true;
    try {
      const listener = await driver.listen(
        DOORBELL_CHANNEL,
        () => {
          this.#doorbells++;
          // While failing, retries wait for the poll timer: a doorbell per write must not turn into a retry storm.
          if (this.#state !== "failing") this.#wake(false);
        },
        (error) => {
          this.#listener = undefined;
          this.#log.warn("capture-doorbell", "change capture: the doorbell session dropped; polling until it is back", {
            error: error.message,
          });
        },
      );
      if (this.#stopped) await listener.close();
      else this.#listener = listener;
    } catch (error) {
      this.#log.warn("capture-doorbell", "change capture: cannot LISTEN for the doorbell; polling meanwhile", {
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#listening = false;
    }
  }

  /** One drain at a time; a wake-up during a drain runs one more after it (changes may have landed meanwhile). */
  #wake(measure: boolean): void {
    if (this.#stopped || this.#sink === undefined) return;
    if (this.#draining !== undefined) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain(measure).finally(() => {
      this.#draining = undefined;
      if (this.#again) {
        this.#again = false;
        this.#wake(false);
      }
    });
  }

  async #drain(measure: boolean): Promise<void> {
    try {
      let claimed: number;
      do {
        if (this.#stopped) return;
        claimed = await this.#claimAndApply();
      } while (claimed >= this.options.batchSize);
      if (measure) await this.#measure();
      else {
        this.#depth = 0;
        this.#lagMs = 0;
      }
      this.#state = "running";
      this.options.health?.succeeded();
    } catch (error) {
      if (this.#stopped) return;
      this.#failed++;
      this.#state = "failing";
      const message = error instanceof Error ? error.message : String(error);
      const health = this.options.health;
      // With a health monitor, it logs the transition (degraded, down, recovered) with this reason.
      if (health !== undefined) health.failed(`outbox relay: applying changes failed (${message})`);
      else {
        this.#log.warn("capture-relay", "change capture: applying outbox changes failed; retrying at the next poll", {
          error: message,
        });
      }
      await this.#measure().catch(() => {});
    }
  }

  /** Claims one batch, applies it, and commits the claim only if the sink resolved in time. */
  async #claimAndApply(): Promise<number> {
    const { driver, batchSize, applyTimeoutMs } = this.options;
    const sink = this.#sink as ChangeSink;
    return driver.transaction(async (executor) => {
      const { rows } = await executor.query(CLAIM_SQL, [batchSize]);
      if (rows.length === 0) return 0;
      const changes = rows.map(toChange).filter((change) => change !== undefined);
      const applied = sink(changes);
      await withTimeout(applied, applyTimeoutMs, () => {
        throw new Error(`applying ${changes.length} change(s) took longer than ${applyTimeoutMs} ms`);
      });
      return rows.length;
    });
  }

  async #measure(): Promise<void> {
    const { rows } = await this.options.driver.query<{ depth: number; lag_ms: number }>(MEASURE_SQL);
    this.#depth = Number(rows[0]?.depth ?? 0);
    this.#lagMs = Number(rows[0]?.lag_ms ?? 0);
  }
}

function toChange(row: SqlRow): CapturedChange | undefined {
  if (row.schema === null || row.table === null) return undefined; // the table was dropped since
  const table = { schema: String(row.schema), table: String(row.table) };
  if (row.op === "T") return { kind: "truncate", table };
  const id = String(row.id);
  const incarnation = Number(row.incarnation);
  if (row.op === "D") return { kind: "delete", table, id, incarnation };
  return { kind: "upsert", table, id, incarnation, rev: Number(row.rev) };
}
