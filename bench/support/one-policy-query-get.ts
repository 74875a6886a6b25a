/**
 * One process, one L1 policy: `query.get` L1 hits against raw lru-cache `get`, interleaved round by round, for
 * bench/support/policy-pairs.ts. Prints one JSON line (the last of its output): the policy, both medians and the
 * case's rate over lru-cache's as the median of per-round ratios.
 *
 *   npx tsx bench/support/one-policy-query-get.ts <lru|tinylfu> <rounds> <roundMs>
 */
import type { L1PolicyName } from "../../src/l1/l1-store.js";
import { measureThroughput, pairedRatio } from "./measure-throughput.js";
import { queryGetCase, rawDocsCase } from "./query-get-case.js";

/** What one such process prints. */
export interface OnePolicyResult {
  readonly policy: L1PolicyName;
  readonly opsPerSec: number;
  readonly lruCacheOpsPerSec: number;
  /** query.get ÷ lru-cache, the median of per-round ratios. */
  readonly vsLruCache: number;
}

const [policy, rounds, roundMs] = process.argv.slice(2);
if (policy !== "lru" && policy !== "tinylfu") throw new Error(`expected a policy (lru or tinylfu), got ${policy}`);
const path = await queryGetCase(policy);
const [raw, get] = await measureThroughput([rawDocsCase(path.idOf), path.testCase], {
  rounds: Number(rounds),
  roundMs: Number(roundMs),
});
path.check();
await path.stop();
const result: OnePolicyResult = {
  policy,
  opsPerSec: get!.opsPerSec,
  lruCacheOpsPerSec: raw!.opsPerSec,
  vsLruCache: pairedRatio(get!.rounds, raw!.rounds),
};
console.log(JSON.stringify(result));
