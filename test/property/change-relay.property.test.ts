/**
 * The relay's delivery contract (change-relay.ts): a source delivers every captured change at least once, in any
 * order and any batching (concurrent relays, redelivery after a crash, SKIP LOCKED reordering). Whatever the
 * delivery, once everything is applied L2 holds nothing older than each row's last committed version, and a fill
 * of any older version is refused — while a cached entry of the last version survives (no needless miss).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CapturedChange } from "../../src/change-capture/captured-change.js";
import { ChangeRelay } from "../../src/change-capture/change-relay.js";
import { DocumentCaptureTarget } from "../../src/change-capture/document-capture-target.js";
import { systemClock } from "../../src/kernel/clock.js";
import type { DocumentEntry } from "../../src/l2/document-entry.js";
import { MemoryCacheBackend } from "../../src/l2/memory/memory-cache-backend.js";

const table = { schema: "public", table: "products" };
const ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"];

/** One row's committed history: updates, deletes and re-creates (a new, larger incarnation). */
type Step = "update" | "delete" | "recreate";
const history = fc.array(fc.constantFrom<Step>("update", "update", "delete", "recreate"), { maxLength: 8 });

interface Version {
  readonly incarnation: number;
  readonly rev: number;
  readonly deleted: boolean;
}

/** The changes a trigger records for a history, and every version the row had. */
function capture(id: string, steps: ReadonlyArray<Step>): { changes: CapturedChange[]; versions: Version[] } {
  let current: Version = { incarnation: 1, rev: 1, deleted: false };
  const versions = [current];
  const changes: CapturedChange[] = [{ kind: "upsert", table, id, incarnation: 1, rev: 1 }];
  for (const step of steps) {
    if (step === "delete" && !current.deleted) {
      changes.push({ kind: "delete", table, id, incarnation: current.incarnation });
      current = { ...current, deleted: true };
    } else if (step === "recreate" || (step === "update" && current.deleted)) {
      current = { incarnation: current.incarnation + 1, rev: 1, deleted: false };
      changes.push({ kind: "upsert", table, id, incarnation: current.incarnation, rev: 1 });
    } else if (step === "update") {
      current = { ...current, rev: current.rev + 1 };
      changes.push({ kind: "upsert", table, id, incarnation: current.incarnation, rev: current.rev });
    } else continue;
    versions.push(current);
  }
  return { changes, versions };
}

function entry(version: Version): DocumentEntry {
  const now = Date.now();
  return {
    incarnation: version.incarnation,
    rev: version.rev,
    fetchedAt: now,
    delta: 1,
    freshUntil: now + 60_000,
    body: "{}",
  };
}

describe("ChangeRelay", () => {
  it("at-least-once delivery in any order and batching leaves no older version servable or fillable", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(history, history),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.tuple(fc.nat(), fc.nat()),
        async (histories, order, batchSizes, cachedAt) => {
          const backend = new MemoryCacheBackend(new Map([["products", "prop"]]), systemClock, 10_000);
          const entries = backend.namespace("products")!.entries("fp", 120_000);
          const dropped: string[] = [];
          const target = new DocumentCaptureTarget({
            entries,
            ttlMs: 120_000,
            slideMs: 0,
            dropLocal: (id) => dropped.push(id),
            flushLocal: () => {},
          });
          const relay = new ChangeRelay(() => target);
          const rows = ids.map((id, i) => capture(id, histories[i]!));
          // A reader cached some version of each row before the changes were relayed.
          for (const [i, row] of rows.entries()) {
            const cached = row.versions[cachedAt[i]! % row.versions.length]!;
            if (!cached.deleted) await entries.put(ids[i]!, entry(cached), 120_000);
          }
          // Deliver: every change once, plus redeliveries, shuffled by `order`, in batches of `batchSizes`.
          const all = rows.flatMap((row) => row.changes);
          const deliveries = [...all, ...order.map((n) => all[n % all.length]!)];
          const shuffled = deliveries
            .map((change, i) => ({ change, key: order[i % order.length]! * 31 + i }))
            .sort((x, y) => x.key - y.key)
            .map(({ change }) => change);
          for (let at = 0, b = 0; at < shuffled.length; b++) {
            const size = batchSizes[b % batchSizes.length]!;
            await relay.apply(shuffled.slice(at, at + size));
            at += size;
          }
          for (const [i, row] of rows.entries()) {
            const last = row.versions[row.versions.length - 1]!;
            const read = await entries.read(ids[i]!);
            if (typeof read === "object") {
              expect({ incarnation: read.incarnation, rev: read.rev }).toEqual({
                incarnation: last.incarnation,
                rev: last.rev,
              });
              expect(last.deleted).toBe(false);
            }
            for (const older of row.versions.slice(0, -1)) {
              if (older.deleted || (older.incarnation === last.incarnation && older.rev === last.rev)) continue;
              expect(await entries.put(ids[i]!, entry(older), 120_000)).toBe("rejected");
            }
          }
          const { applied, duplicates } = relay.counters;
          expect(applied + duplicates).toBe(deliveries.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
