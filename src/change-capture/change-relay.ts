import type { CaptureTarget } from "./capture-target.js";
import { type CapturedChange, type CapturedTable, tableKey } from "./captured-change.js";

/** The relay's counters (see ChangeCaptureStats). */
export interface RelayCounters {
  applied: number;
  duplicates: number;
  failed: number;
  flushes: number;
}

/**
 * Applies a batch of captured changes to the caches, resolving only once every fence has landed, so that the
 * source acknowledges (deletes outbox rows, confirms the slot's LSN) only what is applied: at-least-once, and
 * idempotent because every write is a fence. Within a batch only the newest change of each row is sent (fences make
 * order irrelevant, so the rest are counted as duplicates); a TRUNCATE splits the batch, since what came before it
 * is gone and what came after must survive the flush.
 */
export class ChangeRelay {
  readonly counters: RelayCounters = { applied: 0, duplicates: 0, failed: 0, flushes: 0 };

  constructor(
    /** The target of a table's document, or undefined for a table this runtime does not route (skipped). */
    private readonly targetFor: (table: CapturedTable) => CaptureTarget | undefined,
  ) {}

  async apply(changes: ReadonlyArray<CapturedChange>): Promise<void> {
    let segment: CapturedChange[] = [];
    for (const change of changes) {
      if (change.kind !== "truncate") {
        segment.push(change);
        continue;
      }
      await this.#applyRows(segment);
      segment = [];
      const target = this.targetFor(change.table);
      if (target === undefined) continue;
      await target.flushAll();
      this.counters.flushes++;
    }
    await this.#applyRows(segment);
  }

  async #applyRows(changes: ReadonlyArray<CapturedChange>): Promise<void> {
    const newest = new Map<string, Exclude<CapturedChange, { kind: "truncate" }>>();
    for (const change of changes) {
      if (change.kind === "truncate") continue;
      const key = `${tableKey(change.table)}\u0000${change.id}`;
      const known = newest.get(key);
      if (known !== undefined) this.counters.duplicates++;
      if (known === undefined || isNewer(change, known)) newest.set(key, change);
    }
    const results = await Promise.all(
      [...newest.values()].map((change) => {
        const target = this.targetFor(change.table);
        if (target === undefined) return "rejected";
        return change.kind === "upsert"
          ? target.invalidate(change.id, change.incarnation, change.rev)
          : target.remove(change.id, change.incarnation);
      }),
    );
    for (const result of results) {
      if (result === "stored") this.counters.applied++;
      else this.counters.duplicates++;
    }
  }
}

/** Version order with a delete above every rev of its life (a tombstone's rev is +∞). */
function isNewer(
  a: Exclude<CapturedChange, { kind: "truncate" }>,
  b: Exclude<CapturedChange, { kind: "truncate" }>,
): boolean {
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation;
  const revA = a.kind === "delete" ? Number.POSITIVE_INFINITY : a.rev;
  const revB = b.kind === "delete" ? Number.POSITIVE_INFINITY : b.rev;
  return revA > revB;
}
