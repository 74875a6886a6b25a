/**
 * One process, one L1 policy: `query.get` L1 hits against raw lru-cache `get`, interleaved round by round, for
 * bench/support/policy-pairs.ts. Prints its result on one line (after RESULT_TAG): the policy, both medians, and the
 * case's rate over lru-cache's as the median of per-round ratios.
 *
 *   npx tsx bench/support/one-policy-query-get.ts <lru|tinylfu> <rounds ≥ 5> <roundMs>
 */
import { measureThroughput, pairedRatio } from "./measure-throughput.js";
import { type OnePolicyResult, RESULT_TAG } from "./policy-pairs.js";
import { queryGetCase, rawDocsCase } from "./query-get-case.js";

const [policy, roundsArg, roundMsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const roundMs = Number(roundMsArg);
if (policy !== "lru" && policy !== "tinylfu") throw new Error(`expected a policy (lru or tinylfu), got ${policy}`);
if (!Number.isInteger(rounds) || rounds < 5 || !(roundMs > 0)) {
  throw new Error(`expected rounds (a whole number ≥ 5) and roundMs (> 0), got ${roundsArg} and ${roundMsArg}`);
}
const hitPath = await queryGetCase(policy);
const [raw, get] = await measureThroughput([rawDocsCase(hitPath.idOf), hitPath.testCase], { rounds, roundMs });
hitPath.check();
await hitPath.stop();
const result: OnePolicyResult = {
  policy,
  opsPerSec: get!.opsPerSec,
  lruCacheOpsPerSec: raw!.opsPerSec,
  vsLruCache: pairedRatio(get!.rounds, raw!.rounds),
};
console.log(`${RESULT_TAG}${JSON.stringify(result)}`);
