/**
 * `query.get` with tinylfu ÷ with lru, each policy in a process of its own (bench/support/one-policy-query-get.ts):
 * what choosing one policy over the other costs an application, whose document types share a policy.
 *
 * Why not in one process: there `query.get` and the code under it serve both stores, so their calls into the store
 * are polymorphic — a cost of running both policies at once, not of either. One process per policy leaves each path
 * monomorphic. (On the 2-core VM, lru gained more from that than tinylfu: 0.36–0.43× lru-cache alone against
 * 0.31–0.36× beside tinylfu, tinylfu 0.29–0.37× against 0.29–0.33×; 2026-12-01.)
 *
 * Processes run in pairs, back to back, the first policy alternating from pair to pair (use an even count: the order
 * may matter); each measures its policy against raw lru-cache in the same process, so a pair's ratio is of two such
 * ratios (the machine's speed moves between processes; within one, both cases share it). The result is the median
 * over the pairs.
 */
import { fileURLToPath } from "node:url";
import type { L1PolicyName } from "../../src/l1/l1-store.js";
import { runCapturing } from "./fresh-run.js";
import { median } from "./measure-throughput.js";

const script = fileURLToPath(new URL("./one-policy-query-get.ts", import.meta.url));

/** The line a policy's process prints its result on, after this tag. */
export const RESULT_TAG = "policy-result ";

/** What one policy's process measured. */
export interface OnePolicyResult {
  readonly policy: L1PolicyName;
  readonly opsPerSec: number;
  readonly lruCacheOpsPerSec: number;
  /** query.get ÷ lru-cache, the median of per-round ratios. */
  readonly vsLruCache: number;
}

export interface PolicyPair {
  readonly lru: OnePolicyResult;
  readonly tinylfu: OnePolicyResult;
  /** tinylfu's ratio to lru-cache over lru's. */
  readonly tinyOverLru: number;
}

export interface PolicyPairs {
  readonly pairs: ReadonlyArray<PolicyPair>;
  /** The median of the pairs' ratios. */
  readonly tinyOverLru: number;
}

export async function policyPairs(
  count: number,
  options: { readonly rounds: number; readonly roundMs: number },
): Promise<PolicyPairs> {
  const pairs: PolicyPair[] = [];
  for (let i = 0; i < count; i++) {
    const lruFirst = i % 2 === 0;
    const first = await runOne(lruFirst ? "lru" : "tinylfu", options);
    const second = await runOne(lruFirst ? "tinylfu" : "lru", options);
    const [lru, tinylfu] = lruFirst ? [first, second] : [second, first];
    pairs.push({ lru, tinylfu, tinyOverLru: tinylfu.vsLruCache / lru.vsLruCache });
  }
  return { pairs, tinyOverLru: median(pairs.map((p) => p.tinyOverLru)) };
}

async function runOne(policy: L1PolicyName, options: { rounds: number; roundMs: number }): Promise<OnePolicyResult> {
  const out = await runCapturing(script, [policy, String(options.rounds), String(options.roundMs)]);
  const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
  let result: Partial<OnePolicyResult> | undefined;
  try {
    if (line !== undefined) result = JSON.parse(line.slice(RESULT_TAG.length)) as Partial<OnePolicyResult>;
  } catch {
    // not JSON: reported below
  }
  if (result?.policy !== policy || !(Number.isFinite(result.vsLruCache) && result.vsLruCache! > 0)) {
    throw new Error(`${script} ${policy}: printed no result for it: ${JSON.stringify(line ?? out.slice(-200))}`);
  }
  return result as OnePolicyResult;
}
