/**
 * The library's own L1 hit path as a throughput case: one runtime (PGlite and the in-process L2 behind it, never
 * reached) with a document L1 of the given policy, documents created and read once (so L1 holds them), then
 * `query.get` over Zipf-distributed ids. `check` fails if anything but an L1 hit happened since the case was built.
 */
import { z } from "zod";
import { createRuntime, defineDocument, memoryCacheModule, postgresModule } from "../../src/index.js";
import type { L1PolicyName } from "../../src/l1/l1-store.js";
import { lruCacheCase } from "./lru-cache-case.js";
import type { ThroughputCase } from "./measure-throughput.js";
import { zipfKeys } from "./zipf-keys.js";

/** Resident documents; the L1 holds twice as many, so nothing is evicted. */
export const QUERY_GET_DOCS = 1_000;
/** Precomputed lookups (a power of two: the loops index them with a mask). */
const KEY_COUNT = 1 << 20;
const MASK = KEY_COUNT - 1;

export interface QueryGetCase {
  readonly testCase: ThroughputCase;
  /** The id each lookup reads, in order (`KEY_COUNT` of them, over `QUERY_GET_DOCS` documents). */
  readonly idOf: ReadonlyArray<string>;
  readonly check: () => void;
  readonly stop: () => Promise<void>;
}

export async function queryGetCase(policy: L1PolicyName): Promise<QueryGetCase> {
  const spec = defineDocument({
    name: "bench_docs",
    fields: z.object({ n: z.number().int() }),
    cache: { ttl: "1h", l1: { ttl: "30m", capacity: 2 * QUERY_GET_DOCS, policy } },
  });
  const runtime = createRuntime({
    modules: [
      postgresModule({ pglite: true, documents: { bench_docs: { table: "bench_docs" } } }),
      memoryCacheModule({ caches: { bench_docs: { namespace: "bench" } } }),
    ],
  });
  await runtime.start();
  const command = runtime.context().document.command(spec);
  const ids: string[] = [];
  for (let n = 0; n < QUERY_GET_DOCS; n++) ids.push((await command.create({ n })).id);
  const query = runtime.context().document.query(spec);
  for (const id of ids) await query.get(id);
  // Map the Zipf key `key:<rank>` to a document id once, so the loop only indexes arrays.
  const idOf = zipfKeys({ count: KEY_COUNT, distinct: QUERY_GET_DOCS, seed: 13 }).map(
    (key) => ids[Number(key.slice(4))]!,
  );
  const before = query.stats();
  let cursor = 0;
  const testCase: ThroughputCase = {
    name: `query.get L1 hit (${policy})`,
    run: async (ops) => {
      for (let i = 0; i < ops; i++) await query.get(idOf[cursor++ & MASK]!);
    },
  };
  const check = () => {
    const after = query.stats();
    // A read that joined a read in flight (its fill not landed) would be no L1 hit either.
    if (
      after.l2.hits + after.l2.misses !== before.l2.hits + before.l2.misses ||
      after.source.fetches !== before.source.fetches ||
      after.source.collapsed !== before.source.collapsed
    )
      throw new Error(`query.get (${policy}): a read left L1`);
  };
  return { testCase, idOf, check, stop: () => runtime.stop() };
}

/** Raw lru-cache `get` over the same lookups, sized as the document L1: the baseline of the query.get cases. */
export function rawDocsCase(idOf: ReadonlyArray<string>): ThroughputCase {
  return lruCacheCase(idOf, { max: 2 * QUERY_GET_DOCS, prefill: idOf });
}
