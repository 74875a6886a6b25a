/**
 * The SQL that change capture installs beside the document tables, and removes again.
 *
 * Exports: `OUTBOX_TABLE`, `DOORBELL_CHANNEL`, `installCapture(executor, tables, mode)`,
 * `captureInstalled(executor, table, mode)`, `UNINSTALL_CAPTURE_SQL`.
 *
 * - `public.stratacache_outbox`: one narrow row per changed row (`rel` = the table's oid, `op` U/D/T, the id and
 *   the version), written in the writing transaction, so it commits (or rolls back) with the data. Logged, not
 *   UNLOGGED: surviving a crash is the point.
 * - `stratacache_capture` (BEFORE INSERT OR UPDATE OR DELETE, per row): gives every write a newer version — an UPDATE
 *   that does not raise (incarnation, rev), e.g. raw SQL that leaves `rev` alone, gets rev + 1; an INSERT gets an
 *   incarnation of at least the clock in µs (see incarnation.ts), so a re-created id orders after its old life even
 *   after a sequence reset — then records the change. One BEFORE trigger instead of a BEFORE (version) plus an AFTER
 *   (outbox) trigger halves the trigger calls per write; a row that a later trigger or ON CONFLICT skips leaves a
 *   spurious change, which costs one idempotent invalidation. The name sorts after most user triggers (BEFORE
 *   triggers fire by name), so it records what they decided.
 * - `stratacache_capture_truncate` (BEFORE TRUNCATE, per statement): one T row; the relay flushes the document.
 * - In logical mode only the version part runs (`stratacache_version`), plus a transactional logical message for
 *   deletes (the publication's column list cannot carry the old version of a deleted row without REPLICA IDENTITY
 *   FULL, which would log every column); inserts, updates and truncates reach the slot through the publication.
 *
 * No per-row NOTIFY: a NOTIFY in the writing transaction takes a cluster-wide lock at commit (−90 % write
 * throughput measured); writers ring the doorbell after commit instead (`SELECT pg_notify('stratacache_outbox', '')`).
 */
import type { TableRef } from "../../repository/document-repository.js";
import { qualifiedTableName } from "../../repository/postgres/quote-ident.js";
import type { SqlExecutor } from "../../repository/postgres/sql-driver.js";
import type { CaptureMode } from "../capture-stats.js";

export const OUTBOX_TABLE = "public.stratacache_outbox";
/** LISTEN/NOTIFY channel of the doorbell. */
export const DOORBELL_CHANNEL = "stratacache_outbox";
/** Prefix of the logical messages that carry deletes in logical mode. */
export const DELETE_MESSAGE_PREFIX = "stratacache.delete";
/** Serialises concurrent installers (CREATE OR REPLACE FUNCTION races with itself: "tuple concurrently updated"). */
const INSTALL_LOCK = 0x5374_7261; // "Stra"

const CLOCK_US = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

const OUTBOX_DDL = `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rel oid NOT NULL,
  op "char" NOT NULL,
  id uuid,
  incarnation bigint,
  rev bigint,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;

/** The version rule shared by both modes; `onDelete` and `onUpsert` are the statements that record the change. */
function versionBody(onMoved: string, onDelete: string, onUpsert: string): string {
  return `BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.incarnation := GREATEST(NEW.incarnation, ${CLOCK_US});
  ELSIF TG_OP = 'UPDATE' THEN
    IF NEW.id IS DISTINCT FROM OLD.id THEN
      ${onMoved}
      NEW.incarnation := GREATEST(NEW.incarnation, ${CLOCK_US});
    ELSIF NEW.incarnation < OLD.incarnation OR (NEW.incarnation = OLD.incarnation AND NEW.rev <= OLD.rev) THEN
      NEW.incarnation := OLD.incarnation;
      NEW.rev := OLD.rev + 1;
    END IF;
  ELSE
    ${onDelete}
    RETURN OLD;
  END IF;
  ${onUpsert}
  RETURN NEW;
END`;
}

const recordDelete = `INSERT INTO ${OUTBOX_TABLE} (rel, op, id, incarnation, rev) VALUES (TG_RELID, 'D', OLD.id, OLD.incarnation, OLD.rev);`;
const recordUpsert = `INSERT INTO ${OUTBOX_TABLE} (rel, op, id, incarnation, rev) VALUES (TG_RELID, 'U', NEW.id, NEW.incarnation, NEW.rev);`;
const emitDelete = `PERFORM pg_logical_emit_message(true, '${DELETE_MESSAGE_PREFIX}', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME || ' ' || OLD.id || ' ' || OLD.incarnation);`;

const FUNCTIONS_DDL = [
  `CREATE OR REPLACE FUNCTION public.stratacache_capture_row() RETURNS trigger LANGUAGE plpgsql AS $$
${versionBody(recordDelete, recordDelete, recordUpsert)}
$$`,
  `CREATE OR REPLACE FUNCTION public.stratacache_capture_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${OUTBOX_TABLE} (rel, op) VALUES (TG_RELID, 'T');
  RETURN NULL;
END
$$`,
];

const LOGICAL_FUNCTION_DDL = `CREATE OR REPLACE FUNCTION public.stratacache_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
${versionBody(emitDelete, emitDelete, "")}
$$`;

/**
 * Installs (idempotently) what `mode` needs on each table, in one transaction under an advisory lock; switches a
 * table from the other mode's triggers.
 */
export async function installCapture(
  transaction: <T>(fn: (executor: SqlExecutor) => Promise<T>) => Promise<T>,
  tables: ReadonlyArray<TableRef>,
  mode: CaptureMode,
): Promise<void> {
  if (tables.length === 0) return;
  await transaction(async (executor) => {
    await executor.query(`SELECT pg_advisory_xact_lock(${INSTALL_LOCK})`);
    if (mode === "outbox") {
      await executor.query(OUTBOX_DDL);
      for (const ddl of FUNCTIONS_DDL) await executor.query(ddl);
    } else {
      await executor.query(LOGICAL_FUNCTION_DDL);
    }
    for (const table of tables) {
      const name = qualifiedTableName(table);
      if (mode === "outbox") {
        await executor.query(`DROP TRIGGER IF EXISTS stratacache_version ON ${name}`);
        await executor.query(
          `CREATE OR REPLACE TRIGGER stratacache_capture BEFORE INSERT OR UPDATE OR DELETE ON ${name} FOR EACH ROW EXECUTE FUNCTION public.stratacache_capture_row()`,
        );
        await executor.query(
          `CREATE OR REPLACE TRIGGER stratacache_capture_truncate BEFORE TRUNCATE ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION public.stratacache_capture_truncate()`,
        );
      } else {
        await executor.query(`DROP TRIGGER IF EXISTS stratacache_capture ON ${name}`);
        await executor.query(`DROP TRIGGER IF EXISTS stratacache_capture_truncate ON ${name}`);
        await executor.query(
          `CREATE OR REPLACE TRIGGER stratacache_version BEFORE INSERT OR UPDATE OR DELETE ON ${name} FOR EACH ROW EXECUTE FUNCTION public.stratacache_version_row()`,
        );
      }
    }
  });
}

/** Whether `mode`'s row trigger is on the table (for `migrate: false`, which installs nothing). */
export async function captureInstalled(executor: SqlExecutor, table: TableRef, mode: CaptureMode): Promise<boolean> {
  const trigger = mode === "outbox" ? "stratacache_capture" : "stratacache_version";
  const result = await executor.query(
    `SELECT 1 FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND t.tgname = $3`,
    [table.schema, table.table, trigger],
  );
  return result.rows.length > 0;
}

/**
 * Removes change capture from a database: every trigger the library installed, its functions, and the outbox
 * (changes still in it are dropped: run it with no relay needed any more). Logical mode's slot and publication are
 * dropped separately (see the change-capture recipe). The same text is in the recipe's README.
 */
export const UNINSTALL_CAPTURE_SQL = `DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT t.tgname, t.tgrelid::regclass AS rel FROM pg_catalog.pg_trigger t
            WHERE t.tgname IN ('stratacache_capture', 'stratacache_capture_truncate', 'stratacache_version') LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
  END LOOP;
END $$;
DROP FUNCTION IF EXISTS public.stratacache_capture_row(), public.stratacache_capture_truncate(),
  public.stratacache_version_row();
DROP TABLE IF EXISTS public.stratacache_outbox;`;
