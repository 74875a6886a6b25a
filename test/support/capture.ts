/**
 * What the change-capture tests share: probes on a runtime's capture stats, a raw `pg` client standing for a
 * writer that bypasses the library, and "both runtimes see it" waits.
 */
import pg from "pg";
import type { ChangeCaptureStats, DocumentSpec, Runtime } from "../../src/index.js";
import { waitUntil } from "./eventually.js";
import { peekRev } from "./push-runtime.js";

/** The capture stats of a document on a runtime. */
export function captureStats(runtime: Runtime, document = "products"): ChangeCaptureStats {
  const stats = runtime.stats().changeCapture[document];
  if (stats === undefined) throw new Error(`${document} has no change capture`);
  return stats;
}

/** A plain pg client (no library): psql, a migration, another service. */
export async function rawClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/**
 * Waits until every runtime's L1 no longer holds `staleRev` of the id and its read returns `check`'s approval:
 * the out-of-band write was seen everywhere.
 */
export async function seenEverywhere(
  runtimes: ReadonlyArray<Runtime>,
  spec: DocumentSpec,
  id: string,
  check: (rev: number | undefined) => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  for (const runtime of runtimes) {
    const query = runtime.context().document.query(spec);
    await waitUntil(
      async () => {
        const peeked = peekRev(runtime, spec, id);
        if (peeked !== undefined && !check(peeked)) return false;
        return check((await query.find(id))?.rev);
      },
      { timeoutMs, intervalMs: 5, message: `${id} never seen as expected` },
    );
  }
}

/** Waits until the relay of `runtime` has polled `count` more times (a full safety-net cycle passed). */
export async function pollsPass(runtime: Runtime, count = 2, document = "products"): Promise<void> {
  const start = captureStats(runtime, document).polls;
  await waitUntil(() => captureStats(runtime, document).polls >= start + count, {
    timeoutMs: 10_000,
    intervalMs: 5,
    message: "the relay stopped polling",
  });
}
