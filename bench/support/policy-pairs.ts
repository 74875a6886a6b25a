/**
 * `query.get` with tinylfu ÷ with lru, each policy in a process of its own (bench/support/one-policy-query-get.ts):
 * what choosing one policy over the other costs an application, whose document types share a policy.
 *
 * Why not in one process: there `query.get` and the code under it serve both stores, so their calls into the store
 * are polymorphic, and V8 spends its inlining budget on whichever policy it happened to optimise for — a cost of
 * running both policies at once, not of either. One process per policy leaves each path monomorphic.
 *
 * Processes run in pairs, back to back, the first policy of a pair alternating; each measures its policy against raw
 * lru-cache in the same process, so a pair's ratio is of two such ratios (the machine's speed moves between
 * processes; within one, both cases share it). The result is the median over the pairs.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { L1PolicyName } from "../../src/l1/l1-store.js";
import { median } from "./measure-throughput.js";
import type { OnePolicyResult } from "./one-policy-query-get.js";

const script = fileURLToPath(new URL("./one-policy-query-get.ts", import.meta.url));

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
    const order: L1PolicyName[] = i % 2 === 0 ? ["lru", "tinylfu"] : ["tinylfu", "lru"];
    const results = new Map<L1PolicyName, OnePolicyResult>();
    for (const policy of order) results.set(policy, await runOne(policy, options));
    const lru = results.get("lru")!;
    const tinylfu = results.get("tinylfu")!;
    pairs.push({ lru, tinylfu, tinyOverLru: tinylfu.vsLruCache / lru.vsLruCache });
  }
  return { pairs, tinyOverLru: median(pairs.map((p) => p.tinyOverLru)) };
}

function runOne(policy: L1PolicyName, options: { rounds: number; roundMs: number }): Promise<OnePolicyResult> {
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, script, policy, String(options.rounds), String(options.roundMs)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0) return reject(new Error(`${script} ${policy} failed (${signal ?? `exit code ${code}`})`));
      const last = out.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(last) as OnePolicyResult);
      } catch {
        reject(new Error(`${script} ${policy} printed no result: ${JSON.stringify(last)}`));
      }
    });
  });
}
