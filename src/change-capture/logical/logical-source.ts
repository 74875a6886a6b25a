/**
 * The logical-replication source: consumes a `pgoutput` slot with `pg-logical-replication` (an optional peer,
 * loaded on first use) and delivers each committed transaction's changes to the relay.
 *
 * - Publication `FOR TABLE t (id, incarnation, rev)` for inserts, updates and truncates: tiny messages, filtered by
 *   the server. Deletes arrive as transactional logical messages from the version trigger (outbox-ddl.ts), since a
 *   DELETE's old tuple carries only the key without REPLICA IDENTITY FULL.
 * - Acknowledgement: the library's timer would acknowledge whatever it last received (`acknowledge.auto: false`
 *   alone still acks every ~1 s with the default `timeoutSeconds`), so auto acks are off and the timer is 0; we ack a
 *   commit's end LSN only after the sink resolved for the whole transaction, and answer keepalives that ask for a
 *   reply with the last applied LSN — or, when fully caught up, with the keepalive's own LSN, so an idle
 *   publication does not pin WAL.
 * - Every attempt is a fresh service subscribed at `0/0` (the slot's confirmed position): never the in-memory last
 *   LSN, which would skip changes received but not applied.
 * - One consumer per slot: a second one is refused by the server (SQLSTATE 55006) and stands by, retrying.
 * - A lost slot (`wal_status = 'lost'`, or SQLSTATE 55000 on start) is continuity loss: the captured documents are
 *   flushed, then the slot is dropped and recreated.
 */
import pg from "pg";
import { backoffDelay } from "../../kernel/backoff.js";
import type { Clock } from "../../kernel/clock.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { Logger } from "../../kernel/logger.js";
import { RateLimitedLog } from "../../kernel/rate-limited-log.js";
import type { TableRef } from "../../repository/document-repository.js";
import { qualifiedTableName, quoteIdent } from "../../repository/postgres/quote-ident.js";
import type { RelayState, SlotStats } from "../capture-stats.js";
import type { CapturedChange } from "../captured-change.js";
import type { ChangeSink, ChangeSource, SourceStats } from "../change-source.js";
import { DELETE_MESSAGE_PREFIX } from "../outbox/outbox-ddl.js";
import type { RelayHealth } from "../relay-health.js";

export interface LogicalSourceOptions {
  readonly url: string;
  readonly tables: ReadonlyArray<TableRef>;
  readonly slot: string;
  readonly publication: string;
  /** How often the slot's health is checked, and a standby retries. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Told of each failed and working session (the runtime's `change-capture` health; it then logs transitions). */
  readonly health?: RelayHealth;
}

/** What we use of a pgoutput message (pg-logical-replication's `Message`), typed here so it stays optional. */
interface PgoutputMessage {
  readonly tag: string;
  readonly relation?: { readonly schema: string; readonly name: string };
  readonly relations?: ReadonlyArray<{ readonly schema: string; readonly name: string }>;
  readonly new?: Record<string, unknown>;
  readonly prefix?: string;
  readonly content?: Uint8Array;
  readonly commitEndLsn?: string | null;
  readonly commitTime?: bigint;
}

interface ReplicationService {
  on(event: "data", listener: (lsn: string, message: PgoutputMessage) => Promise<void>): unknown;
  on(event: "heartbeat", listener: (lsn: string, timestamp: number, shouldRespond: boolean) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "start", listener: () => void): unknown;
  subscribe(plugin: unknown, slot: string, uptoLsn: string): Promise<unknown>;
  acknowledge(lsn: string): Promise<boolean>;
  destroy(): Promise<unknown>;
}

interface ReplicationModule {
  LogicalReplicationService: new (client: { connectionString: string }, config: unknown) => ReplicationService;
  PgoutputPlugin: new (options: { protoVersion: 1; publicationNames: string[]; messages: boolean }) => unknown;
}

const SLOT_IN_USE = "55006";
const SLOT_UNUSABLE = "55000";

/** Loads the optional peer; when it is missing, a ConfigurationError saying how to fix it. */
export async function loadReplication(): Promise<ReplicationModule> {
  let mod: ReplicationModule & { default?: ReplicationModule };
  try {
    mod = (await import("pg-logical-replication")) as unknown as ReplicationModule & { default?: ReplicationModule };
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND") {
      throw new ConfigurationError(
        "changeCapture",
        '"logical" needs the optional peer dependency pg-logical-replication: npm install pg-logical-replication',
      );
    }
    throw error;
  }
  return mod.LogicalReplicationService === undefined ? (mod.default as ReplicationModule) : mod;
}

export class LogicalSource implements ChangeSource {
  readonly mode = "logical" as const;
  readonly #log: RateLimitedLog;
  readonly #admin: pg.Pool;
  #sink: ChangeSink | undefined;
  #service: ReplicationService | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #state: RelayState = "running";
  #failed = 0;
  #lagMs = 0;
  #pending = false;
  #slot: { walStatus: string | undefined; retainedBytes: number } = { walStatus: undefined, retainedBytes: 0 };
  #confirmed: string | undefined;
  #recreated = 0;
  #polls = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: LogicalSourceOptions) {
    this.#log = new RateLimitedLog(options.logger, options.clock);
    this.#admin = new pg.Pool({ connectionString: options.url, max: 1 });
    this.#admin.on("error", () => {});
  }

  async start(sink: ChangeSink): Promise<void> {
    this.#sink = sink;
    await this.#ensurePublication();
    // Before start() resolves: from then on every commit is in the slot, even before the first session streams.
    if ((await this.#slotStatus()) === "missing") await this.#createSlot();
    this.#timer = setInterval(() => void this.#checkSlot(), this.options.pollIntervalMs);
    this.#timer.unref?.();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return this.#loop;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#wake?.();
    await this.#service?.destroy().catch(() => {});
    await this.#loop;
    await this.#admin.end().catch(() => {});
  }

  stats(): SourceStats {
    const slot: SlotStats = {
      name: this.options.slot,
      walStatus: this.#slot.walStatus,
      retainedBytes: this.#slot.retainedBytes,
      confirmedLsn: this.#confirmed,
      recreated: this.#recreated,
    };
    return {
      relay: this.#state,
      lagMs: this.#pending ? this.#lagMs : 0,
      depth: 0,
      doorbells: 0,
      polls: this.#polls,
      failed: this.#failed,
      slot,
    };
  }

  /** Consumes the slot until stopped: one session per attempt, backing off after failures. */
  async #run(): Promise<void> {
    for (let attempt = 0; !this.#stopped; ) {
      try {
        await this.#session();
        attempt = 0;
      } catch (error) {
        if (this.#stopped) return;
        const code = (error as { code?: unknown } | null)?.code;
        if (code === SLOT_IN_USE) {
          this.#state = "standby"; // another runtime owns the slot
          this.options.health?.succeeded();
          attempt = 0;
        } else if (code === SLOT_UNUSABLE) {
          await this.#recreateLostSlot(error).catch((e: unknown) => this.#fail(e));
        } else {
          this.#fail(error);
          attempt++;
        }
      }
      if (this.#stopped) return;
      const delay =
        this.#state === "standby"
          ? this.options.pollIntervalMs
          : backoffDelay(attempt, 50, 5_000, () => this.options.clock.random());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #fail(error: unknown): void {
    this.#failed++;
    this.#state = "failing";
    const message = error instanceof Error ? error.message : String(error);
    const health = this.options.health;
    // With a health monitor, it logs the transition (degraded, down, recovered) with this reason.
    if (health !== undefined) health.failed(`replication slot ${this.options.slot}: consumer failed (${message})`);
    else {
      this.#log.warn("capture-logical", "change capture: the replication slot consumer failed; retrying", {
        slot: this.options.slot,
        error: message,
      });
    }
  }

  /** One replication session; resolves or rejects when the stream ends. */
  async #session(): Promise<void> {
    const status = await this.#slotStatus();
    if (status === "missing") await this.#createSlot();
    else if (status === "lost") await this.#recreateLostSlot(new Error("wal_status is lost"));
    const { LogicalReplicationService, PgoutputPlugin } = await loadReplication();
    // No automatic acknowledgement of any kind (see the top of the file).
    const service = new LogicalReplicationService(
      { connectionString: this.options.url },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.#service = service;
    const plugin = new PgoutputPlugin({
      protoVersion: 1,
      publicationNames: [this.options.publication],
      messages: true,
    });
    let transaction: CapturedChange[] = [];
    let applied = "0/0";
    let failure: unknown;
    let streaming = false;
    service.on("error", (error) => {
      // Any failure ends the session (a session that ignored its stream would silently drop changes); the next one
      // starts again from the slot's confirmed position.
      failure ??= error;
      void service.destroy();
    });
    service.on("data", async (_lsn, message) => {
      if (failure !== undefined) return;
      if (!streaming) {
        streaming = true;
        this.#state = "running";
        this.options.health?.succeeded();
      }
      switch (message.tag) {
        case "begin":
          transaction = [];
          this.#pending = true;
          this.#lagMs = lagOf(message.commitTime);
          return;
        case "insert":
        case "update": {
          const row = message.new ?? {};
          const relation = message.relation!;
          transaction.push({
            kind: "upsert",
            table: { schema: relation.schema, table: relation.name },
            id: String(row.id),
            incarnation: Number(String(row.incarnation)),
            rev: Number(String(row.rev)),
          });
          return;
        }
        case "truncate":
          for (const relation of message.relations ?? []) {
            transaction.push({ kind: "truncate", table: { schema: relation.schema, table: relation.name } });
          }
          return;
        case "message":
          if (message.prefix === DELETE_MESSAGE_PREFIX && message.content) {
            const change = parseDelete(Buffer.from(message.content).toString("utf8"));
            if (change !== undefined) transaction.push(change);
          }
          return;
        case "commit": {
          try {
            if (transaction.length > 0) await (this.#sink as ChangeSink)(transaction);
          } catch (error) {
            // Not acknowledged: a new session starts from the slot's confirmed position and redelivers it.
            failure = error;
            void service.destroy();
            return;
          }
          transaction = [];
          this.#pending = false;
          applied = message.commitEndLsn ?? applied;
          this.#confirmed = applied;
          try {
            await service.acknowledge(applied);
          } catch (error) {
            failure ??= error; // harmless: the slot redelivers from its last confirmed position
            void service.destroy();
          }
          return;
        }
        default:
          return;
      }
    });
    service.on("start", () => {
      if (failure === undefined) this.options.health?.succeeded();
    });
    service.on("heartbeat", (lsn, _timestamp, shouldRespond) => {
      if (!shouldRespond || failure !== undefined) return;
      // Caught up (nothing received but unapplied): the keepalive's position is safe and frees WAL.
      const position = this.#pending ? applied : lsn;
      service.acknowledge(position).catch(() => {});
    });
    try {
      await service.subscribe(plugin, this.options.slot, "0/00000000");
    } finally {
      this.#service = undefined;
      await service.destroy().catch(() => {});
    }
    if (failure !== undefined && !this.#stopped) throw failure;
  }

  async #slotStatus(): Promise<"missing" | "lost" | "ok"> {
    const { rows } = await this.#admin.query<{ wal_status: string | null }>(
      "SELECT wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
      [this.options.slot],
    );
    if (rows.length === 0) return "missing";
    return rows[0]?.wal_status === "lost" ? "lost" : "ok";
  }

  async #createSlot(): Promise<void> {
    await this.#admin
      .query("SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')", [this.options.slot])
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== "42710") throw error; // another runtime created it meanwhile
      });
  }

  /** Continuity loss: every captured document is flushed, then the slot starts over. */
  async #recreateLostSlot(cause: unknown): Promise<void> {
    this.#log.warn("capture-slot-lost", "change capture: the replication slot was lost; flushing the captured caches", {
      slot: this.options.slot,
      error: cause instanceof Error ? cause.message : String(cause),
    });
    await this.#admin
      .query("SELECT pg_catalog.pg_drop_replication_slot($1)", [this.options.slot])
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== "42704") throw error; // already gone
      });
    await this.#createSlot();
    // After the new slot exists: whatever committed before it is covered by the flush, after it by the slot.
    await (this.#sink as ChangeSink)(
      this.options.tables.map((table) => ({ kind: "truncate", table: { schema: table.schema, table: table.table } })),
    );
    this.#recreated++;
  }

  async #checkSlot(): Promise<void> {
    this.#polls++;
    try {
      const { rows } = await this.#admin.query<{ wal_status: string | null; retained: number | null }>(
        `SELECT wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 AS retained
           FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
        [this.options.slot],
      );
      const row = rows[0];
      this.#slot = { walStatus: row?.wal_status ?? undefined, retainedBytes: Number(row?.retained ?? 0) };
      // A slot invalidated under a running consumer: end the session, the next one recreates the slot.
      if (row?.wal_status === "lost" && this.#state === "running") await this.#service?.destroy();
    } catch {
      // Reported by the consumer itself when Postgres is gone.
    }
  }

  /** Creates the publication, or sets its tables to the captured ones (column lists need PostgreSQL 15). */
  async #ensurePublication(): Promise<void> {
    const tables = this.options.tables.map((t) => `${qualifiedTableName(t)} (id, incarnation, rev)`).join(", ");
    const name = quoteIdent(this.options.publication, "publication");
    const { rows } = await this.#admin.query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", [
      this.options.publication,
    ]);
    if (rows.length === 0) {
      await this.#admin
        .query(`CREATE PUBLICATION ${name} FOR TABLE ${tables} WITH (publish = 'insert, update, truncate')`)
        .catch((error: unknown) => {
          if ((error as { code?: unknown }).code !== "42710") throw error;
        });
    } else {
      await this.#admin.query(`ALTER PUBLICATION ${name} SET TABLE ${tables}`);
    }
  }
}

/** `[schema, table, id, incarnation]` (JSON) from the version trigger's delete message. */
function parseDelete(content: string): CapturedChange | undefined {
  try {
    const [schema, table, id, incarnation] = JSON.parse(content) as [string, string, string, string];
    return { kind: "delete", table: { schema, table }, id, incarnation: Number(incarnation) };
  } catch {
    return undefined;
  }
}

/** Milliseconds since a commit (µs since the Unix epoch, as the plugin reports it). */
function lagOf(commitTime: bigint | undefined): number {
  if (commitTime === undefined) return 0;
  return Math.max(0, Date.now() - Number(commitTime / 1000n));
}
